#if canImport(Glibc)
import Glibc
private let systemWrite = Glibc.write
#elseif canImport(Darwin)
import Darwin
private let systemWrite = Darwin.write
#endif

/// Writes a file all-or-nothing: bytes stream into a temporary file in the destination's
/// folder, which is renamed over the destination only when the body has finished, so readers
/// never see a half-written file and a failure leaves the old file (or none) in place.
public enum AtomicFile {
    /// Runs `body` with a writer for `path`'s new contents; the file appears only if `body`
    /// returns. Errors of `body` are rethrown as they are; I/O errors are `FormatError.file`.
    public static func write(to path: String, _ body: (AtomicFileWriter) throws -> Void) throws {
        let (fd, temporaryPath) = try createTemporary(besides: path)
        let writer = AtomicFileWriter(fd: fd, path: path)
        var closed = false
        do {
            try body(writer)
            try writer.flush()
            // Without fsync a crash soon after the rename could leave an empty file in place
            // of the old one on filesystems that reorder metadata and data writes.
            guard fsync(fd) == 0 else { throw FormatError.file(path, "cannot sync: \(errnoMessage())") }
            closed = true
            guard close(fd) == 0 else { throw FormatError.file(path, "cannot close: \(errnoMessage())") }
            guard rename(temporaryPath, path) == 0 else {
                throw FormatError.file(path, "cannot rename temporary file into place: \(errnoMessage())")
            }
        } catch {
            if !closed { close(fd) }
            unlink(temporaryPath)
            throw error
        }
    }

    /// Opens a new file next to `path` with a random name; O_EXCL so two writers never share
    /// one, and mode 0666 so the umask, not this code, decides the final permissions.
    private static func createTemporary(besides path: String) throws -> (Int32, String) {
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[...$0]) } ?? ""
        let base = slash.map { String(path[path.index(after: $0)...]) } ?? path
        guard !base.isEmpty else { throw FormatError.file(path, "not a file name") }
        for _ in 0..<16 {
            let suffix = String(UInt64.random(in: .min ... .max), radix: 16)
            let candidate = "\(directory).\(base).\(suffix).tmp"
            let fd = open(candidate, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
            if fd >= 0 { return (fd, candidate) }
            if errno == ENOENT { throw FormatError.file(path, "cannot create: the folder '\(directory.isEmpty ? "." : directory)' does not exist") }
            if errno != EEXIST { throw FormatError.file(path, "cannot create: \(errnoMessage())") }
        }
        throw FormatError.file(path, "cannot create a temporary file next to it")
    }
}

/// Appends bytes to the file `AtomicFile.write` is building. Small writes are buffered so
/// headers written field by field do not cost a system call each; large ones go straight
/// to the file without a copy.
public final class AtomicFileWriter {
    private let fd: Int32
    /// The destination, for error messages.
    public let path: String
    /// Bytes written so far: where the next byte lands in the file.
    public private(set) var offset: Int = 0
    private var buffer: [UInt8] = []
    private static let bufferCapacity = 1 << 20

    init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
        buffer.reserveCapacity(Self.bufferCapacity)
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        if buffer.count + bytes.count <= Self.bufferCapacity {
            buffer.append(contentsOf: bytes)
        } else {
            try flush()
            if bytes.count < Self.bufferCapacity { buffer.append(contentsOf: bytes) } else { try writeAll(bytes) }
        }
        offset += bytes.count
    }

    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// Writes zero bytes until `offset` is a multiple of `alignment`, for formats that align
    /// tensor data.
    public func pad(toMultipleOf alignment: Int) throws {
        precondition(alignment > 0, "alignment must be positive")
        let remainder = offset % alignment
        if remainder != 0 { try write([UInt8](repeating: 0, count: alignment - remainder)) }
    }

    func flush() throws {
        guard !buffer.isEmpty else { return }
        try buffer.withUnsafeBytes { try writeAll($0) }
        buffer.removeAll(keepingCapacity: true)
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer) throws {
        guard var next = bytes.baseAddress else { return }
        var remaining = bytes.count
        while remaining > 0 {
            let written = systemWrite(fd, next, remaining)
            if written < 0 {
                if errno == EINTR { continue }
                throw FormatError.file(path, "cannot write: \(errnoMessage())")
            }
            next += written
            remaining -= written
        }
    }
}

private func errnoMessage() -> String { String(cString: strerror(errno)) }
