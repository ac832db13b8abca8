import NXIR

/// numpy's `.npy` format for single arrays: reads versions 1.0, 2.0 and 3.0 of little-endian,
/// C-order arrays of the numeric and bool dtypes, and writes files byte-identical to
/// `numpy.save` (version 1.0, or 2.0 when the header outgrows 1.0's 16-bit length).
public enum Npy {
    private static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
    /// numpy's `ARRAY_ALIGN`: data starts at a multiple of 64 so any element type is aligned
    /// in a mapping.
    private static let alignment = 64

    /// Maps the file; the tensor views it without copying.
    public static func read(path: String) throws -> Tensor {
        let file = try MappedFile.opening(path)
        return try parse(file.bytes, source: path) { offset, count in
            TensorStorage(mapping: file, offset: offset, count: count)
        }
    }

    /// Parses a whole `.npy` file held in memory, copying the data. `source` names the buffer
    /// in error messages.
    public static func decode(bytes: UnsafeRawBufferPointer, source: String = "<memory>") throws -> Tensor {
        try parse(bytes, source: source) { offset, count in
            TensorStorage(copying: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)]))
        }
    }

    public static func decode(bytes: [UInt8], source: String = "<memory>") throws -> Tensor {
        try bytes.withUnsafeBytes { try decode(bytes: $0, source: source) }
    }

    /// The file's bytes. Throws for tensors `.npy` cannot hold (bfloat16, strings) or whose
    /// storage disagrees with their shape.
    public static func encode(_ tensor: Tensor) throws -> [UInt8] {
        var bytes = try header(for: tensor, source: "<memory>")
        tensor.withUnsafeBytes { bytes.append(contentsOf: $0) }
        return bytes
    }

    /// Writes atomically: `path` is replaced only once the file is complete.
    public static func write(_ tensor: Tensor, to path: String) throws {
        let header = try header(for: tensor, source: path)
        try AtomicFile.write(to: path) { writer in
            try writer.write(header)
            try tensor.withUnsafeBytes { try writer.write($0) }
        }
    }

    /// The numpy dtype string for a type, in the spelling `numpy.save` writes.
    public static func descr(for dataType: DataType) -> String? {
        switch dataType {
        case .float16: "<f2"
        case .float32: "<f4"
        case .float64: "<f8"
        case .int8: "|i1"
        case .int16: "<i2"
        case .int32: "<i4"
        case .int64: "<i8"
        case .uint8: "|u1"
        case .uint16: "<u2"
        case .uint32: "<u4"
        case .uint64: "<u8"
        case .bool: "|b1"
        case .bfloat16, .string: nil
        }
    }

    /// Magic, version, header length and the padded header dict.
    private static func header(for tensor: Tensor, source: String) throws(FormatError) -> [UInt8] {
        guard let descr = descr(for: tensor.dataType) else {
            throw .file(source, "numpy's .npy format has no \(tensor.dataType) dtype")
        }
        if let problem = tensor.sizeProblem { throw .file(source, problem) }
        let text = Array(NpyHeader(descr: descr, fortranOrder: false, shape: tensor.shape).text.utf8)
        // As numpy's `_wrap_header`: pad with spaces and end with a newline so the data starts
        // at a multiple of 64; an already aligned header still gets a full 64 bytes of padding.
        func wrapped(lengthFieldSize: Int) -> (padding: Int, headerLength: Int) {
            let unpadded = text.count + 1
            let padding = alignment - (magic.count + 2 + lengthFieldSize + unpadded) % alignment
            return (padding, unpadded + padding)
        }
        var version: UInt8 = 1
        var (padding, headerLength) = wrapped(lengthFieldSize: 2)
        if headerLength > Int(UInt16.max) {
            version = 2
            (padding, headerLength) = wrapped(lengthFieldSize: 4)
            guard headerLength <= Int(UInt32.max) else { throw .file(source, "shape \(tensor.shape) makes the header too long") }
        }
        var bytes = magic + [version, 0]
        if version == 1 {
            withUnsafeBytes(of: UInt16(headerLength).littleEndian) { bytes.append(contentsOf: $0) }
        } else {
            withUnsafeBytes(of: UInt32(headerLength).littleEndian) { bytes.append(contentsOf: $0) }
        }
        bytes += text
        bytes += repeatElement(UInt8(ascii: " "), count: padding)
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }

    private static func parse(
        _ buffer: UnsafeRawBufferPointer, source: String, storage: (_ offset: Int, _ count: Int) -> TensorStorage
    ) throws(FormatError) -> Tensor {
        func fail(_ message: String) -> FormatError { .file(source, message) }
        guard buffer.count >= magic.count + 2, buffer.prefix(magic.count).elementsEqual(magic) else {
            throw fail("not a .npy file: it does not start with \\x93NUMPY")
        }
        let major = buffer[magic.count], minor = buffer[magic.count + 1]
        let lengthFieldSize: Int
        switch (major, minor) {
        case (1, 0): lengthFieldSize = 2
        case (2, 0), (3, 0): lengthFieldSize = 4
        default: throw fail(".npy format version \(major).\(minor) is not supported (1.0, 2.0 and 3.0 are)")
        }
        let headerStart = magic.count + 2 + lengthFieldSize
        guard buffer.count >= headerStart else { throw fail("file ends inside the .npy header length") }
        let headerLength = lengthFieldSize == 2
            ? Int(buffer.loadUnaligned(fromByteOffset: magic.count + 2, as: UInt16.self).littleEndian)
            : Int(buffer.loadUnaligned(fromByteOffset: magic.count + 2, as: UInt32.self).littleEndian)
        let dataStart = headerStart + headerLength
        guard dataStart <= buffer.count else {
            throw fail("header length \(headerLength) runs past the end of the file (\(buffer.count) bytes)")
        }

        let headerBytes = UnsafeRawBufferPointer(rebasing: buffer[headerStart..<dataStart])
        let text: String
        if major == 3 {
            guard let decoded = String(validating: headerBytes, as: UTF8.self) else { throw fail("header is not valid UTF-8") }
            text = decoded
        } else {
            // Versions 1.0 and 2.0 are latin-1, whose bytes are the first 256 code points.
            text = String(String.UnicodeScalarView(headerBytes.map { Unicode.Scalar($0) }))
        }
        let header: NpyHeader
        do {
            header = try NpyHeader.parse(text)
        } catch {
            throw fail("invalid header \(abbreviated(text)): \(error.message)")
        }
        guard !header.fortranOrder else {
            throw fail("Fortran-order arrays are not supported; save a C-order copy (numpy.ascontiguousarray)")
        }
        let dataType = try dataType(descr: header.descr, fail: fail)

        var byteCount = dataType.byteSize!
        for size in header.shape {
            let (product, overflow) = byteCount.multipliedReportingOverflow(by: size)
            guard !overflow else { throw fail("shape \(header.shape) is too large") }
            byteCount = product
        }
        let stored = buffer.count - dataStart
        guard stored == byteCount else {
            throw fail("shape \(header.shape) of \(header.descr) needs \(byteCount) data bytes but the file holds \(stored)")
        }
        return Tensor(dataType: dataType, shape: header.shape, storage: storage(dataStart, byteCount))
    }

    private static func dataType(descr: String, fail: (String) -> FormatError) throws(FormatError) -> DataType {
        let order = descr.first
        let code = order.map { "<>|=".contains($0) } == true ? String(descr.dropFirst()) : descr
        let types: [String: DataType] = [
            "f2": .float16, "f4": .float32, "f8": .float64, "i1": .int8, "i2": .int16, "i4": .int32, "i8": .int64,
            "u1": .uint8, "u2": .uint16, "u4": .uint32, "u8": .uint64, "b1": .bool,
        ]
        guard let dataType = types[code] else { throw fail("unsupported dtype '\(descr)'") }
        // Byte order only matters for multi-byte elements; '=' is native, and every platform
        // this builds for is little-endian.
        if order == ">", dataType.byteSize! > 1 {
            throw fail("big-endian dtype '\(descr)' is not supported; convert with array.astype('<\(code)')")
        }
        return dataType
    }

    private static func abbreviated(_ text: String) -> String {
        let trimmed = text.trimmingTrailingSpaces
        return trimmed.count <= 120 ? "\"\(trimmed)\"" : "\"\(trimmed.prefix(120))...\""
    }
}

extension String {
    fileprivate var trimmingTrailingSpaces: String {
        var result = Substring(self)
        while let last = result.last, last.isWhitespace { result.removeLast() }
        return String(result)
    }
}
