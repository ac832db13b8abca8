/// The table of contents of a zip file held in memory (typically a mapping): entry names and
/// where each STORED entry's bytes lie, read from the central directory (zip64 included), so
/// entries are used in place without copying. Only what `torch.save` writes is accepted:
/// unencrypted, uncompressed entries; a compressed one is an error naming it.
struct ZipArchive {
    struct Entry {
        let name: String
        /// Offset of the entry's first data byte in the archive.
        let dataOffset: Int
        let size: Int
        let crc32: UInt32
    }

    let source: String
    /// Entries in central-directory order.
    let entries: [Entry]
    private let index: [String: Int]

    subscript(_ name: String) -> Entry? { index[name].map { entries[$0] } }

    private static let localHeaderSignature: UInt32 = 0x0403_4B50
    private static let centralHeaderSignature: UInt32 = 0x0201_4B50
    private static let endSignature: UInt32 = 0x0605_4B50
    private static let zip64EndSignature: UInt32 = 0x0606_4B50
    private static let zip64LocatorSignature: UInt32 = 0x0706_4B50

    init(_ bytes: UnsafeRawBufferPointer, source: String) throws(CheckpointError) {
        self.source = source
        let reader = ByteReader(bytes: bytes, source: source, what: "zip")
        let directory = try Self.centralDirectory(reader)
        var entries: [Entry] = []
        var index: [String: Int] = [:]
        var position = directory.offset
        let end = directory.offset + directory.size
        while position < end {
            let entry = try Self.centralEntry(reader, at: &position, end: end)
            guard index[entry.name] == nil else { throw reader.fail("duplicate entry '\(entry.name)' in the central directory") }
            index[entry.name] = entries.count
            entries.append(entry)
        }
        guard entries.count == directory.count else {
            throw reader.fail("central directory holds \(entries.count) entries but the end record declares \(directory.count)")
        }
        self.entries = entries
        self.index = index
    }

    /// Offset, size and entry count of the central directory, from the end record (and the
    /// zip64 end record when a field of the classic one is saturated).
    private static func centralDirectory(_ reader: ByteReader) throws(CheckpointError) -> (offset: Int, size: Int, count: Int) {
        let count = reader.count
        guard count >= 22 else { throw reader.fail("file is \(count) bytes, too short for a zip archive") }
        // The end record is the last 22 bytes plus a comment of up to 65535 bytes.
        var endOffset: Int?
        var candidate = count - 22
        while candidate >= max(0, count - 22 - 0xFFFF) {
            if reader.uint32(candidate) == endSignature,
                candidate + 22 + Int(reader.uint16(candidate + 20)) == count {
                endOffset = candidate
                break
            }
            candidate -= 1
        }
        guard let end = endOffset else {
            throw reader.fail("no zip end-of-central-directory record: not a zip archive, or truncated")
        }
        var entries = Int(reader.uint16(end + 10))
        var size = Int(reader.uint32(end + 12))
        var offset = Int(reader.uint32(end + 16))
        if entries == 0xFFFF || size == 0xFFFF_FFFF || offset == 0xFFFF_FFFF {
            let locator = end - 20
            guard locator >= 0, reader.uint32(locator) == zip64LocatorSignature else {
                throw reader.fail("end record needs a zip64 end record, but there is no zip64 locator before it")
            }
            let record = try reader.int(reader.uint64(locator + 8), "zip64 end record offset")
            guard record >= 0, record <= count - 56, reader.uint32(record) == zip64EndSignature else {
                throw reader.fail("zip64 locator points at \(record), where there is no zip64 end record")
            }
            entries = try reader.int(reader.uint64(record + 32), "zip64 entry count")
            size = try reader.int(reader.uint64(record + 40), "zip64 central directory size")
            offset = try reader.int(reader.uint64(record + 48), "zip64 central directory offset")
        }
        guard offset <= count, size <= count - offset else {
            throw reader.fail("central directory (\(size) bytes at \(offset)) runs past the end of the file (\(count) bytes): truncated")
        }
        return (offset, size, entries)
    }

    private static func centralEntry(_ reader: ByteReader, at position: inout Int, end: Int) throws(CheckpointError) -> Entry {
        let start = position
        guard start + 46 <= end, reader.uint32(start) == centralHeaderSignature else {
            throw reader.fail("central directory entry at \(start) is damaged")
        }
        let flags = reader.uint16(start + 8)
        let method = reader.uint16(start + 10)
        let crc = reader.uint32(start + 16)
        var compressedSize = UInt64(reader.uint32(start + 20))
        var size = UInt64(reader.uint32(start + 24))
        let nameLength = Int(reader.uint16(start + 28))
        let extraLength = Int(reader.uint16(start + 30))
        let commentLength = Int(reader.uint16(start + 32))
        var localOffset = UInt64(reader.uint32(start + 42))
        position = start + 46 + nameLength + extraLength + commentLength
        guard position <= end else { throw reader.fail("central directory entry at \(start) runs past the directory") }
        guard let name = String(validating: reader.bytes[(start + 46)..<(start + 46 + nameLength)], as: UTF8.self) else {
            throw reader.fail("entry name at \(start + 46) is not UTF-8")
        }

        // Zip64 extra field (id 1): 64-bit values for exactly the saturated 32-bit fields,
        // in the order size, compressed size, local header offset.
        var extra = start + 46 + nameLength
        let extraEnd = extra + extraLength
        while extra + 4 <= extraEnd {
            let id = reader.uint16(extra), length = Int(reader.uint16(extra + 2))
            let body = extra + 4
            guard body + length <= extraEnd else { throw reader.fail("entry '\(name)': extra field runs past its end") }
            if id == 1 {
                var field = body
                func next() throws(CheckpointError) -> UInt64 {
                    guard field + 8 <= body + length else { throw reader.fail("entry '\(name)': zip64 extra field too short") }
                    defer { field += 8 }
                    return reader.uint64(field)
                }
                if size == 0xFFFF_FFFF { size = try next() }
                if compressedSize == 0xFFFF_FFFF { compressedSize = try next() }
                if localOffset == 0xFFFF_FFFF { localOffset = try next() }
            }
            extra = body + length
        }

        guard flags & 1 == 0 else { throw reader.fail("entry '\(name)' is encrypted") }
        switch method {
        case 0: break
        case 8:
            throw reader.fail("entry '\(name)' is DEFLATED; torch.save never compresses entries, so this file was rewritten by another tool (re-save it with torch.save)")
        default: throw reader.fail("entry '\(name)' uses compression method \(method); only STORED (0) entries are read")
        }
        guard compressedSize == size else {
            throw reader.fail("entry '\(name)' is STORED but its compressed size \(compressedSize) differs from its size \(size)")
        }
        let header = try reader.int(localOffset, "local header offset of '\(name)'")
        guard header <= reader.count - 30, reader.uint32(header) == localHeaderSignature else {
            throw reader.fail("entry '\(name)': no local file header at offset \(header)")
        }
        // The local header's extra field differs from the central one (torch pads it to
        // align the data to 64 bytes), so the data offset comes from the local header.
        let dataOffset = header + 30 + Int(reader.uint16(header + 26)) + Int(reader.uint16(header + 28))
        let byteCount = try reader.int(size, "size of '\(name)'")
        guard dataOffset <= reader.count, byteCount <= reader.count - dataOffset else {
            throw reader.fail("entry '\(name)' (\(byteCount) bytes at \(dataOffset)) runs past the end of the file (\(reader.count) bytes): truncated")
        }
        return Entry(name: name, dataOffset: dataOffset, size: byteCount, crc32: crc)
    }
}
