/// A JSON document parsed strictly (RFC 8259), for headers of untrusted files. Our own parser
/// rather than Foundation's because headers need what JSONSerialization blurs: integers kept
/// exact beyond 2^53, `true` never mistaken for 1, duplicate keys reported, object member
/// order kept, and nesting depth bounded so a hostile file cannot overflow the stack.
enum JSONValue {
    case null
    case bool(Bool)
    /// The literal text, so callers decide how to read it without precision loss.
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([(key: String, value: JSONValue)])

    struct ParseError: Error {
        let message: String
    }

    static let maximumDepth = 128

    static func parse(_ bytes: UnsafeRawBufferPointer) throws(ParseError) -> JSONValue {
        var parser = Parser(bytes: bytes)
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        if parser.index < bytes.count { throw parser.failure("unexpected data after the JSON value") }
        return value
    }

    /// The value as an `Int` when it is an integer literal that fits (no fraction or exponent,
    /// as serde rejects those for sizes and offsets too).
    var integer: Int? {
        guard case .number(let text) = self, !text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" })
        else { return nil }
        return Int(text)
    }

    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    /// `text` as a JSON string literal. Non-ASCII stays raw UTF-8, as serde_json and
    /// Python's `ensure_ascii=False` write it.
    static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case "\u{08}": result += "\\b"
            case "\u{0C}": result += "\\f"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }

    private struct Parser {
        let bytes: UnsafeRawBufferPointer
        var index = 0

        func failure(_ message: String) -> ParseError {
            ParseError(message: "\(message) at byte \(index) of the header")
        }

        var current: UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func skipWhitespace() {
            while let byte = current, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { index += 1 }
        }

        mutating func expect(_ literal: String) throws(ParseError) {
            for byte in literal.utf8 {
                guard current == byte else { throw failure("invalid literal, expected '\(literal)'") }
                index += 1
            }
        }

        mutating func parseValue(depth: Int) throws(ParseError) -> JSONValue {
            guard depth < JSONValue.maximumDepth else { throw failure("nesting deeper than \(JSONValue.maximumDepth) levels") }
            guard let byte = current else { throw failure("unexpected end of JSON") }
            switch byte {
            case UInt8(ascii: "{"): return try parseObject(depth: depth)
            case UInt8(ascii: "["): return try parseArray(depth: depth)
            case UInt8(ascii: "\""): return .string(try parseString())
            case UInt8(ascii: "t"): try expect("true"); return .bool(true)
            case UInt8(ascii: "f"): try expect("false"); return .bool(false)
            case UInt8(ascii: "n"): try expect("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
            default: throw failure("unexpected character '\(printable(byte))'")
            }
        }

        mutating func parseObject(depth: Int) throws(ParseError) -> JSONValue {
            index += 1
            var members: [(key: String, value: JSONValue)] = []
            var seen = Set<String>()
            skipWhitespace()
            if current == UInt8(ascii: "}") {
                index += 1
                return .object(members)
            }
            while true {
                skipWhitespace()
                guard current == UInt8(ascii: "\"") else { throw failure("expected a string key") }
                let keyStart = index
                let key = try parseString()
                // Two declarations of one name would leave it to chance which one a reader uses.
                guard seen.insert(key).inserted else {
                    index = keyStart
                    throw failure("duplicate key \(JSONValue.quoted(key))")
                }
                skipWhitespace()
                guard current == UInt8(ascii: ":") else { throw failure("expected ':' after a key") }
                index += 1
                skipWhitespace()
                members.append((key, try parseValue(depth: depth + 1)))
                skipWhitespace()
                switch current {
                case UInt8(ascii: ","): index += 1
                case UInt8(ascii: "}"):
                    index += 1
                    return .object(members)
                default: throw failure("expected ',' or '}' in an object")
                }
            }
        }

        mutating func parseArray(depth: Int) throws(ParseError) -> JSONValue {
            index += 1
            var elements: [JSONValue] = []
            skipWhitespace()
            if current == UInt8(ascii: "]") {
                index += 1
                return .array(elements)
            }
            while true {
                skipWhitespace()
                elements.append(try parseValue(depth: depth + 1))
                skipWhitespace()
                switch current {
                case UInt8(ascii: ","): index += 1
                case UInt8(ascii: "]"):
                    index += 1
                    return .array(elements)
                default: throw failure("expected ',' or ']' in an array")
                }
            }
        }

        mutating func parseNumber() throws(ParseError) -> String {
            let start = index
            if current == UInt8(ascii: "-") { index += 1 }
            guard let first = current, isDigit(first) else { throw failure("invalid number") }
            index += 1
            // JSON forbids leading zeros such as 012.
            if first != UInt8(ascii: "0") { skipDigits() }
            if current == UInt8(ascii: ".") {
                index += 1
                guard let digit = current, isDigit(digit) else { throw failure("invalid number: no digits after '.'") }
                skipDigits()
            }
            if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
                index += 1
                if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
                guard let digit = current, isDigit(digit) else { throw failure("invalid number: no exponent digits") }
                skipDigits()
            }
            return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        }

        mutating func skipDigits() {
            while let byte = current, isDigit(byte) { index += 1 }
        }

        func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

        mutating func parseString() throws(ParseError) -> String {
            index += 1
            var utf8: [UInt8] = []
            while true {
                guard let byte = current else { throw failure("unterminated string") }
                switch byte {
                case UInt8(ascii: "\""):
                    index += 1
                    guard let text = String(validating: utf8, as: UTF8.self) else { throw failure("string is not valid UTF-8") }
                    return text
                case UInt8(ascii: "\\"):
                    index += 1
                    try parseEscape(into: &utf8)
                case 0..<0x20:
                    throw failure("unescaped control character in a string")
                default:
                    utf8.append(byte)
                    index += 1
                }
            }
        }

        mutating func parseEscape(into utf8: inout [UInt8]) throws(ParseError) {
            guard let byte = current else { throw failure("unterminated escape") }
            index += 1
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(byte)
            case UInt8(ascii: "b"): utf8.append(0x08)
            case UInt8(ascii: "f"): utf8.append(0x0C)
            case UInt8(ascii: "n"): utf8.append(0x0A)
            case UInt8(ascii: "r"): utf8.append(0x0D)
            case UInt8(ascii: "t"): utf8.append(0x09)
            case UInt8(ascii: "u"):
                var value = try parseHex4()
                if (0xD800..<0xDC00).contains(value) {
                    // A high surrogate must pair with a following \u low surrogate.
                    guard current == UInt8(ascii: "\\") else { throw failure("unpaired surrogate escape") }
                    index += 1
                    guard current == UInt8(ascii: "u") else { throw failure("unpaired surrogate escape") }
                    index += 1
                    let low = try parseHex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw failure("unpaired surrogate escape") }
                    value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00..<0xE000).contains(value) {
                    throw failure("unpaired surrogate escape")
                }
                guard let scalar = Unicode.Scalar(value) else { throw failure("invalid \\u escape") }
                utf8.append(contentsOf: Array(String(Character(scalar)).utf8))
            default:
                throw failure("invalid escape '\\\(printable(byte))'")
            }
        }

        mutating func parseHex4() throws(ParseError) -> UInt32 {
            var value: UInt32 = 0
            for _ in 0..<4 {
                guard let byte = current, let digit = hexValue(byte) else { throw failure("invalid \\u escape") }
                value = value << 4 | digit
                index += 1
            }
            return value
        }

        func hexValue(_ byte: UInt8) -> UInt32? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(byte - UInt8(ascii: "A") + 10)
            default: nil
            }
        }

        func printable(_ byte: UInt8) -> String {
            (0x20..<0x7F).contains(byte) ? String(UnicodeScalar(byte)) : "\\x" + String(byte, radix: 16)
        }
    }
}
