import Foundation

/// Where the `raw_data` of each main-graph initializer sits in a serialized `ModelProto`,
/// and the message with those payloads cut out.
///
/// Why: swift-protobuf copies every `bytes` field it decodes, so decoding a mapped model
/// would copy all its weights (and touch every page of the file). Decoding the stripped
/// message instead copies only names, dims and nodes; the reader then views each payload in
/// the mapped file. Only ModelProto.graph(7).initializer(5).raw_data(9) is cut: tensors in
/// attributes and subgraphs are rare and small, and keep the ordinary path.
///
/// The scan is deliberately partial and never reports errors: on anything it does not
/// expect (a truncated field, a group, an overlong varint) it gives up, and the reader
/// decodes the original bytes so swift-protobuf's checks report the problem as before.
struct InitializerPayloads {
    /// The model with the cut payloads removed and the enclosing lengths rewritten.
    let stripped: Data
    /// Payload byte ranges in the original bytes, by initializer position in the decoded
    /// graph (wire order, across repeated `graph` fields, which protobuf merges).
    let ranges: [Int: Range<Int>]

    init?(_ bytes: UnsafeRawBufferPointer) {
        var scanner = Scanner(bytes: bytes)
        guard let stripped = scanner.model() else { return nil }
        self.stripped = Data(stripped)
        ranges = scanner.ranges
    }

    private enum FieldNumber {
        static let graph = 7, initializer = 5, rawData = 9
    }

    /// One field on the wire: where its tag starts, where its value (after the length
    /// prefix, for length-delimited fields) starts and ends.
    private struct Field {
        let number: UInt64
        let isLengthDelimited: Bool
        let start: Int
        let valueStart: Int
        let end: Int
    }

    private struct Scanner {
        let bytes: UnsafeRawBufferPointer
        var ranges: [Int: Range<Int>] = [:]
        var initializerCount = 0

        init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

        mutating func model() -> [UInt8]? {
            var out: [UInt8] = []
            return rewrite(0..<bytes.count, into: &out) { scanner, field, out in
                guard field.number == FieldNumber.graph, field.isLengthDelimited else { return false }
                return scanner.nested(field, into: &out) { scanner, range, body in scanner.graph(range, into: &body) }
            } ? out : nil
        }

        private mutating func graph(_ range: Range<Int>, into out: inout [UInt8]) -> Bool {
            rewrite(range, into: &out) { scanner, field, out in
                guard field.number == FieldNumber.initializer, field.isLengthDelimited else { return false }
                let index = scanner.initializerCount
                scanner.initializerCount += 1
                return scanner.nested(field, into: &out) { scanner, range, body in scanner.tensor(range, index: index, into: &body) }
            }
        }

        private mutating func tensor(_ range: Range<Int>, index: Int, into out: inout [UInt8]) -> Bool {
            rewrite(range, into: &out) { scanner, field, _ in
                guard field.number == FieldNumber.rawData, field.isLengthDelimited else { return false }
                // Protobuf keeps the last occurrence of a singular field: so does this.
                if field.valueStart == field.end {
                    scanner.ranges[index] = nil
                    return false  // an empty payload stays in place, as cheap as any other field
                }
                scanner.ranges[index] = field.valueStart..<field.end
                return true
            }
        }

        /// Copies the fields of `range` to `out`; `handle` sees each first and returns false
        /// to have it copied, true when it wrote the replacement itself (possibly nothing),
        /// nil when the field is malformed (the scan gives up).
        private mutating func rewrite(
            _ range: Range<Int>, into out: inout [UInt8],
            handle: (inout Scanner, Field, inout [UInt8]) -> Bool?
        ) -> Bool {
            var position = range.lowerBound
            while position < range.upperBound {
                guard let field = field(at: position, end: range.upperBound) else { return false }
                switch handle(&self, field, &out) {
                case nil: return false
                case true?: break
                case false?: out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[field.start..<field.end]))
                }
                position = field.end
            }
            return true
        }

        /// Writes `field`'s tag, then its value rewritten by `body`, length-prefixed.
        private mutating func nested(
            _ field: Field, into out: inout [UInt8],
            _ body: (inout Scanner, Range<Int>, inout [UInt8]) -> Bool
        ) -> Bool? {
            var inner: [UInt8] = []
            guard body(&self, field.valueStart..<field.end, &inner) else { return nil }
            let tagEnd = tagEnd(from: field.start)
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[field.start..<tagEnd]))
            Self.appendVarint(UInt64(inner.count), to: &out)
            out.append(contentsOf: inner)
            return true
        }

        private func tagEnd(from start: Int) -> Int {
            var position = start
            while bytes[position] & 0x80 != 0 { position += 1 }
            return position + 1
        }

        /// The field starting at `position`, or nil if it is not well formed within `end`.
        private func field(at start: Int, end: Int) -> Field? {
            var position = start
            guard let tag = varint(&position, end: end) else { return nil }
            let number = tag >> 3
            guard number > 0 else { return nil }
            switch tag & 7 {
            case 0:
                guard varint(&position, end: end) != nil else { return nil }
                return Field(number: number, isLengthDelimited: false, start: start, valueStart: start, end: position)
            case 1, 5:
                let size = tag & 7 == 1 ? 8 : 4
                guard end - position >= size else { return nil }
                return Field(number: number, isLengthDelimited: false, start: start, valueStart: start, end: position + size)
            case 2:
                guard let length = varint(&position, end: end), length <= UInt64(end - position) else { return nil }
                return Field(number: number, isLengthDelimited: true, start: start, valueStart: position, end: position + Int(length))
            default:
                return nil  // groups (deprecated) and invalid wire types
            }
        }

        private func varint(_ position: inout Int, end: Int) -> UInt64? {
            var value: UInt64 = 0
            for shift in stride(from: 0, to: 64, by: 7) {
                guard position < end else { return nil }
                let byte = bytes[position]
                position += 1
                value |= UInt64(byte & 0x7F) << UInt64(shift)
                if byte & 0x80 == 0 { return value }
            }
            return nil
        }

        private static func appendVarint(_ value: UInt64, to out: inout [UInt8]) {
            var value = value
            while value >= 0x80 {
                out.append(UInt8(value & 0x7F) | 0x80)
                value >>= 7
            }
            out.append(UInt8(value))
        }
    }
}
