/// Builds JSON text by hand, so the writers control key order (HoVer-Net's) and number
/// format, and refuse values JSON cannot hold (NaN, infinities) instead of writing them.
struct JSONText {
    private(set) var bytes: [UInt8] = []

    mutating func raw(_ text: String) { bytes.append(contentsOf: text.utf8) }

    mutating func string(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": raw("\\\"")
            case "\\": raw("\\\\")
            case "\n": raw("\\n")
            case "\r": raw("\\r")
            case "\t": raw("\\t")
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                raw("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
            default: bytes.append(contentsOf: String(scalar).utf8)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    mutating func int(_ value: Int) { raw(String(value)) }

    /// Shortest text that reads back as the same Double (Swift's and Python's repr agree).
    mutating func number(_ value: Double, field: String) throws {
        guard value.isFinite else { throw JSONTextError(message: "\(field) is \(value), which JSON cannot hold") }
        raw(value.description)
    }
}

/// A value the JSON writers refuse; the output writer adds the file name.
struct JSONTextError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
