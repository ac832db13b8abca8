/// The dict at the head of a `.npy` file: `{'descr': '<f4', 'fortran_order': False,
/// 'shape': (2, 3), }`. Parsed as the Python literal it is (any quoting, spacing, trailing
/// commas, Python 2 `3L` integers) rather than by pattern matching, and written exactly as
/// numpy writes it so our files are byte-identical to `numpy.save`'s.
struct NpyHeader: Equatable {
    var descr: String
    var fortranOrder: Bool
    var shape: [Int]

    struct ParseError: Error {
        let message: String
    }

    /// numpy's `GROWTH_AXIS_MAX_DIGITS`: spare spaces so the first dimension can grow in place.
    private static let growthDigits = 21

    /// The dict text numpy writes, before the padding and newline that align the data.
    var text: String {
        let dims = shape.map(String.init)
        let tuple = dims.count == 1 ? "(\(dims[0]),)" : "(" + dims.joined(separator: ", ") + ")"
        var text = "{'descr': '\(descr)', 'fortran_order': \(fortranOrder ? "True" : "False"), 'shape': \(tuple), }"
        // numpy pads for the axis that would grow: the first in C order, the last in Fortran.
        if let growing = fortranOrder ? dims.last : dims.first {
            text += String(repeating: " ", count: max(0, Self.growthDigits - growing.count))
        }
        return text
    }

    static func parse(_ text: String) throws(ParseError) -> NpyHeader {
        var parser = Parser(scalars: Array(text.unicodeScalars))
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        guard parser.index == parser.scalars.count else { throw parser.failure("unexpected text after the dict") }
        guard case .dict(let members) = value else { throw ParseError(message: "header is not a dict") }

        var found: [String: Literal] = [:]
        for (key, value) in members {
            guard ["descr", "fortran_order", "shape"].contains(key) else {
                throw ParseError(message: "unexpected key '\(key)' (numpy headers have descr, fortran_order and shape)")
            }
            found[key] = value
        }
        func require(_ key: String) throws(ParseError) -> Literal {
            guard let value = found[key] else { throw ParseError(message: "no '\(key)' key") }
            return value
        }
        let descr: String
        switch try require("descr") {
        case .string(let text): descr = text
        case .list: throw ParseError(message: "structured dtypes (a list descr) are not supported")
        default: throw ParseError(message: "'descr' is not a string")
        }
        guard case .bool(let fortranOrder) = try require("fortran_order") else {
            throw ParseError(message: "'fortran_order' is not True or False")
        }
        guard case .tuple(let dims) = try require("shape") else {
            throw ParseError(message: "'shape' is not a tuple")
        }
        var shape: [Int] = []
        for dim in dims {
            guard case .int(let size) = dim else { throw ParseError(message: "'shape' holds something other than integers") }
            guard size >= 0 else { throw ParseError(message: "'shape' has a negative dimension \(size)") }
            shape.append(size)
        }
        return NpyHeader(descr: descr, fortranOrder: fortranOrder, shape: shape)
    }

    /// The Python literals a header may contain.
    private indirect enum Literal {
        case string(String)
        case bool(Bool)
        case none
        case int(Int)
        case tuple([Literal])
        case list([Literal])
        case dict([(String, Literal)])
    }

    private struct Parser {
        let scalars: [Unicode.Scalar]
        var index = 0
        static let maximumDepth = 32

        var current: Unicode.Scalar? { index < scalars.count ? scalars[index] : nil }

        func failure(_ message: String) -> ParseError {
            ParseError(message: "\(message) at character \(index)")
        }

        mutating func skipWhitespace() {
            while let scalar = current, scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r" { index += 1 }
        }

        mutating func parseValue(depth: Int) throws(ParseError) -> Literal {
            guard depth < Self.maximumDepth else { throw failure("nesting too deep") }
            guard let scalar = current else { throw failure("unexpected end of header") }
            switch scalar {
            case "{": return try parseDict(depth: depth)
            case "(": return try parseTuple(depth: depth)
            case "[":
                index += 1
                return .list(try parseSequence(until: "]", depth: depth))
            case "'", "\"": return .string(try parseString())
            case "-", "+", "0"..."9": return .int(try parseInt())
            case "a"..."z", "A"..."Z", "_":
                let start = index
                while let next = current, next.properties.isAlphabetic || next == "_" || ("0"..."9").contains(next) { index += 1 }
                switch String(String.UnicodeScalarView(scalars[start..<index])) {
                case "True": return .bool(true)
                case "False": return .bool(false)
                case "None": return .none
                case let word:
                    index = start
                    throw failure("unexpected name '\(word)'")
                }
            default: throw failure("unexpected character '\(scalar.escaped(asASCII: true))'")
            }
        }

        mutating func parseDict(depth: Int) throws(ParseError) -> Literal {
            index += 1
            var members: [(String, Literal)] = []
            while true {
                skipWhitespace()
                if current == "}" {
                    index += 1
                    return .dict(members)
                }
                guard current == "'" || current == "\"" else { throw failure("expected a string key") }
                let key = try parseString()
                guard !members.contains(where: { $0.0 == key }) else { throw failure("duplicate key '\(key)'") }
                skipWhitespace()
                guard current == ":" else { throw failure("expected ':' after a key") }
                index += 1
                skipWhitespace()
                members.append((key, try parseValue(depth: depth + 1)))
                skipWhitespace()
                if current == "," {
                    index += 1
                } else if current != "}" {
                    throw failure("expected ',' or '}' in the dict")
                }
            }
        }

        /// `()` is the empty tuple, `(x,)` and `(x, y)` are tuples, and `(x)` is just `x`, as
        /// in Python: numpy then rejects `'shape': (3)` as not a tuple, and so do we.
        mutating func parseTuple(depth: Int) throws(ParseError) -> Literal {
            index += 1
            skipWhitespace()
            if current == ")" {
                index += 1
                return .tuple([])
            }
            let first = try parseValue(depth: depth + 1)
            skipWhitespace()
            if current == ")" {
                index += 1
                return first
            }
            guard current == "," else { throw failure("expected ',' or ')' in a tuple") }
            index += 1
            return .tuple([first] + (try parseSequence(until: ")", depth: depth)))
        }

        /// Elements up to the closing bracket, a trailing comma allowed.
        mutating func parseSequence(until close: Unicode.Scalar, depth: Int) throws(ParseError) -> [Literal] {
            var elements: [Literal] = []
            while true {
                skipWhitespace()
                if current == close {
                    index += 1
                    return elements
                }
                elements.append(try parseValue(depth: depth + 1))
                skipWhitespace()
                if current == "," {
                    index += 1
                } else if current != close {
                    throw failure("expected ',' or '\(close)'")
                }
            }
        }

        mutating func parseInt() throws(ParseError) -> Int {
            var negative = false
            if current == "-" || current == "+" {
                negative = current == "-"
                index += 1
            }
            var value = 0
            var digits = 0
            while let scalar = current, ("0"..."9").contains(scalar) {
                let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = shifted.addingReportingOverflow(Int(scalar.value - 48))
                guard !overflow1, !overflow2 else { throw failure("integer too large") }
                value = sum
                digits += 1
                index += 1
            }
            guard digits > 0 else { throw failure("expected digits") }
            // Python 2 numpy wrote shapes as longs: (3L,).
            if current == "L" || current == "l" { index += 1 }
            return negative ? -value : value
        }

        mutating func parseString() throws(ParseError) -> String {
            let quote = current!
            index += 1
            var result = String.UnicodeScalarView()
            while true {
                guard let scalar = current, scalar != "\n" else { throw failure("unterminated string") }
                index += 1
                if scalar == quote { return String(result) }
                guard scalar == "\\" else {
                    result.append(scalar)
                    continue
                }
                guard let escaped = current else { throw failure("unterminated string") }
                index += 1
                switch escaped {
                case "n": result.append("\n")
                case "t": result.append("\t")
                case "r": result.append("\r")
                case "0": result.append("\0")
                case "\\", "'", "\"": result.append(escaped)
                case "x": result.append(try parseHex(digits: 2))
                case "u": result.append(try parseHex(digits: 4))
                default: throw failure("unsupported escape '\\\(escaped)'")
                }
            }
        }

        mutating func parseHex(digits: Int) throws(ParseError) -> Unicode.Scalar {
            guard index + digits <= scalars.count,
                let value = UInt32(String(String.UnicodeScalarView(scalars[index..<(index + digits)])), radix: 16),
                let scalar = Unicode.Scalar(value)
            else { throw failure("invalid hex escape") }
            index += digits
            return scalar
        }
    }
}
