import Foundation

#if canImport(Glibc)
import Glibc
private let systemWrite = Glibc.write
#elseif canImport(Darwin)
import Darwin
private let systemWrite = Darwin.write
#endif

/// All-or-nothing writes of one file or one whole directory.
///
/// A file's bytes go to a temporary file in the same folder that is fsynced and renamed over
/// the destination, so a reader sees the old file or the new one, never a half-written one.
/// A directory is built as a temporary sibling and renamed into place only once every file in
/// it is written; a failure removes the sibling and leaves no partial directory. (NXFormat has
/// a streaming `AtomicFile`; this module does not depend on NXFormat, and its files are small
/// enough to be encoded in memory first.)
enum AtomicWrite {
    /// Writes `bytes` to `path` atomically.
    static func write(_ bytes: UnsafeRawBufferPointer, to path: String) throws {
        let (fd, temporary) = try createTemporaryFile(besides: path)
        var closed = false
        do {
            var next = bytes.baseAddress
            var remaining = bytes.count
            while remaining > 0, let pointer = next {
                let written = systemWrite(fd, pointer, remaining)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw ImageFileError(path, "cannot write: \(errnoMessage())")
                }
                next = pointer + written
                remaining -= written
            }
            // Without fsync a crash soon after the rename can leave an empty file in place.
            guard fsync(fd) == 0 else { throw ImageFileError(path, "cannot sync: \(errnoMessage())") }
            closed = true
            guard close(fd) == 0 else { throw ImageFileError(path, "cannot close: \(errnoMessage())") }
            guard rename(temporary, path) == 0 else {
                throw ImageFileError(path, "cannot move the temporary file into place: \(errnoMessage())")
            }
        } catch {
            if !closed { close(fd) }
            unlink(temporary)
            throw error
        }
    }

    static func write(_ bytes: [UInt8], to path: String) throws {
        try bytes.withUnsafeBytes { (raw) in try write(raw, to: path) }
    }

    /// Builds the directory `path` atomically: `body` fills a fresh temporary sibling
    /// directory (its path is the argument), which is then renamed to `path`.
    ///
    /// If `path` exists and `replacing` is false, nothing is written and an error is thrown.
    /// With `replacing`, the old directory is first renamed aside, the new one renamed into
    /// place, and the old one deleted; if the second rename fails the old one is put back.
    /// (Linux's renameat2(RENAME_EXCHANGE) would swap them in one step, but Glibc's Swift
    /// module does not export it; the aside-rename leaves the name missing only between two
    /// renames.) Whatever `body` throws is rethrown after the temporary directory is removed.
    static func writeDirectory(
        at path: String, replacing: Bool, _ body: (String) throws -> Void
    ) throws {
        let manager = FileManager.default
        let (cleaned, parent, name, exists) = try checkDirectoryDestination(path, replacing: replacing)
        let prefix = parent.isEmpty ? "" : parent + "/"
        let temporary = try createTemporaryDirectory("\(prefix).\(name).", for: cleaned)
        do {
            try body(temporary)
        } catch {
            try? manager.removeItem(atPath: temporary)
            throw error
        }
        if !exists {
            guard rename(temporary, cleaned) == 0 else {
                let message = errnoMessage()
                try? manager.removeItem(atPath: temporary)
                throw ImageFileError(cleaned, "cannot move the finished directory into place: \(message)")
            }
            return
        }
        let aside = "\(prefix).\(name).old-\(randomSuffix())"
        guard rename(cleaned, aside) == 0 else {
            let message = errnoMessage()
            try? manager.removeItem(atPath: temporary)
            throw ImageFileError(cleaned, "cannot move the existing directory aside: \(message)")
        }
        guard rename(temporary, cleaned) == 0 else {
            let message = errnoMessage()
            _ = rename(aside, cleaned)
            try? manager.removeItem(atPath: temporary)
            throw ImageFileError(cleaned, "cannot move the finished directory into place: \(message)")
        }
        try? manager.removeItem(atPath: aside)
    }

    /// Throws the error `writeDirectory(at: path, replacing:)` would throw before writing
    /// anything: `path` exists (and may not be replaced, or is not a directory), is not a
    /// directory name, or its parent does not exist. Returns the path without a trailing
    /// slash, its parent and name, and whether it exists.
    @discardableResult
    static func checkDirectoryDestination(_ path: String, replacing: Bool) throws
        -> (cleaned: String, parent: String, name: String, exists: Bool)
    {
        let manager = FileManager.default
        let cleaned = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        var isDirectory: ObjCBool = false
        let exists = manager.fileExists(atPath: cleaned, isDirectory: &isDirectory)
        if exists && !replacing {
            throw ImageFileError(cleaned, "already exists (choose another output directory or allow overwriting)")
        }
        if exists && !isDirectory.boolValue {
            throw ImageFileError(cleaned, "exists and is not a directory")
        }
        let parent = (cleaned as NSString).deletingLastPathComponent
        let name = (cleaned as NSString).lastPathComponent
        guard !name.isEmpty, name != ".", name != ".." else { throw ImageFileError(path, "not a directory name") }
        if !parent.isEmpty {
            isDirectory = false
            guard manager.fileExists(atPath: parent, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ImageFileError(cleaned, "the parent directory \(parent) does not exist")
            }
        }
        return (cleaned, parent, name, exists)
    }

    /// A new file next to `path` with a random name; O_EXCL so two writers never share one,
    /// mode 0666 so the umask decides the final permissions.
    private static func createTemporaryFile(besides path: String) throws -> (Int32, String) {
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[...$0]) } ?? ""
        let base = slash.map { String(path[path.index(after: $0)...]) } ?? path
        guard !base.isEmpty else { throw ImageFileError(path, "not a file name") }
        for _ in 0..<16 {
            let candidate = "\(directory).\(base).\(randomSuffix()).tmp"
            let fd = open(candidate, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
            if fd >= 0 { return (fd, candidate) }
            if errno != EEXIST { throw ImageFileError(path, "cannot create: \(errnoMessage())") }
        }
        throw ImageFileError(path, "cannot create a temporary file next to it")
    }

    private static func createTemporaryDirectory(_ prefix: String, for path: String) throws -> String {
        for _ in 0..<16 {
            let candidate = "\(prefix)\(randomSuffix()).tmp"
            if mkdir(candidate, 0o777) == 0 { return candidate }
            if errno != EEXIST { throw ImageFileError(path, "cannot create a temporary directory beside it: \(errnoMessage())") }
        }
        throw ImageFileError(path, "cannot create a temporary directory beside it")
    }

    private static func randomSuffix() -> String { String(UInt64.random(in: .min ... .max), radix: 16) }
}

func errnoMessage() -> String { String(cString: strerror(errno)) }
