@testable import NXConverters

/// Writes small STORED zip archives for crafted test checkpoints: optionally with zip64
/// records for every size and offset (as a >4 GB torch.save file has them), or with a
/// compression method claimed that the data does not have.
enum ZipBuilder {
    struct Entry {
        var name: String
        var data: [UInt8] { didSet { crc32 = nil } }
        var method: UInt16 = 0
        /// The data's CRC when already known (from the archive it came from), so rebuilding
        /// a checkpoint a thousand times does not checksum its storages a thousand times.
        var crc32: UInt32?

        init(name: String, data: [UInt8], method: UInt16 = 0, crc32: UInt32? = nil) {
            self.name = name
            self.data = data
            self.method = method
            self.crc32 = crc32
        }

        var checksum: Int { Int(crc32 ?? CRC32.checksum(data)) }
    }

    /// The entries of an existing archive, to rebuild it with changes.
    static func entries(of bytes: [UInt8]) throws -> [Entry] {
        try bytes.withUnsafeBytes { buffer in
            try ZipArchive(buffer, source: "test").entries.map { entry in
                Entry(name: entry.name, data: Array(buffer[entry.dataOffset..<(entry.dataOffset + entry.size)]), crc32: entry.crc32)
            }
        }
    }

    static func build(_ entries: [Entry], zip64: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        func u16(_ value: Int) { withUnsafeBytes(of: UInt16(truncatingIfNeeded: value).littleEndian) { out += $0 } }
        func u32(_ value: Int) { withUnsafeBytes(of: UInt32(truncatingIfNeeded: value).littleEndian) { out += $0 } }
        func u64(_ value: Int) { withUnsafeBytes(of: UInt64(value).littleEndian) { out += $0 } }
        let saturated = 0xFFFF_FFFF
        let version = zip64 ? 45 : 20

        var offsets: [Int] = []
        let checksums = entries.map(\.checksum)
        for (entry, checksum) in zip(entries, checksums) {
            offsets.append(out.count)
            let name = Array(entry.name.utf8)
            u32(0x0403_4B50); u16(version); u16(0); u16(Int(entry.method)); u16(0); u16(0)
            u32(checksum)
            u32(zip64 ? saturated : entry.data.count); u32(zip64 ? saturated : entry.data.count)
            u16(name.count); u16(zip64 ? 20 : 0)
            out += name
            if zip64 { u16(1); u16(16); u64(entry.data.count); u64(entry.data.count) }
            out += entry.data
        }
        let directoryOffset = out.count
        for ((entry, checksum), offset) in zip(zip(entries, checksums), offsets) {
            let name = Array(entry.name.utf8)
            u32(0x0201_4B50); u16(version); u16(version); u16(0); u16(Int(entry.method)); u16(0); u16(0)
            u32(checksum)
            u32(zip64 ? saturated : entry.data.count); u32(zip64 ? saturated : entry.data.count)
            u16(name.count); u16(zip64 ? 28 : 0); u16(0); u16(0); u16(0); u32(0)
            u32(zip64 ? saturated : offset)
            out += name
            if zip64 { u16(1); u16(24); u64(entry.data.count); u64(entry.data.count); u64(offset) }
        }
        let directorySize = out.count - directoryOffset
        if zip64 {
            let recordOffset = out.count
            u32(0x0606_4B50); u64(44); u16(45); u16(45); u32(0); u32(0)
            u64(entries.count); u64(entries.count); u64(directorySize); u64(directoryOffset)
            u32(0x0706_4B50); u32(0); u64(recordOffset); u32(1)
        }
        u32(0x0605_4B50); u16(0); u16(0)
        u16(zip64 ? 0xFFFF : entries.count); u16(zip64 ? 0xFFFF : entries.count)
        u32(zip64 ? saturated : directorySize); u32(zip64 ? saturated : directoryOffset); u16(0)
        return out
    }

    /// A torch.save-like checkpoint whose data.pkl is `pickle` (and no storages).
    static func checkpoint(pickle: [UInt8], archive: String = "archive") -> [UInt8] {
        build([
            Entry(name: "\(archive)/data.pkl", data: pickle),
            Entry(name: "\(archive)/byteorder", data: Array("little".utf8)),
            Entry(name: "\(archive)/version", data: Array("3\n".utf8)),
        ])
    }
}
