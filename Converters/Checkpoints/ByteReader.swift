/// Bounds-aware little-endian reads from a buffer whose ranges the caller has checked, and
/// errors that name the source.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    let source: String
    let what: String

    var count: Int { bytes.count }

    func fail(_ message: String) -> CheckpointError { .file(source, message) }

    func uint16(_ offset: Int) -> UInt16 { UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self)) }
    func uint32(_ offset: Int) -> UInt32 { UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)) }
    func uint64(_ offset: Int) -> UInt64 { UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) }

    /// A 64-bit file quantity as Int, or an error naming it when it cannot be one.
    func int(_ value: UInt64, _ name: String) throws(CheckpointError) -> Int {
        guard value <= UInt64(Int.max) else { throw fail("\(what) \(name) \(value) is out of range") }
        return Int(value)
    }
}
