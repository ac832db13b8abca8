/// The chunk structure of a PNG file, checked before libpng sees it: the signature (so other
/// formats get a message naming them), every chunk's extent (so truncation is reported as
/// such), the header's size and format, and the presence of image data and an end chunk.
///
/// It also removes the colour-space chunks (gAMA, sRGB, iCCP, cHRM) from what libpng decodes:
/// libpng's simplified API would otherwise convert samples between gamma encodings, while
/// PIL and OpenCV (what models are trained with) return samples as stored. On request it
/// removes tRNS too (transparency that the caller drops anyway), so libpng adds no alpha
/// channel to compose. Chunks are self-contained with their own CRC, so dropping whole
/// chunks keeps the stream valid.
struct PNGContainer {
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    private static let colourSpaceChunks: Set<String> = ["gAMA", "sRGB", "iCCP", "cHRM"]

    let width: Int
    let height: Int
    let bitDepth: Int
    /// PNG colour type: 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA.
    let colorType: Int
    let interlaced: Bool
    let hasTransparencyChunk: Bool
    /// The stream libpng should decode: the file without colour-space chunks.
    let decodable: [UInt8]

    var colorTypeName: String {
        switch colorType {
        case 0: "grayscale"
        case 2: "RGB"
        case 3: "palette"
        case 4: "grayscale+alpha"
        case 6: "RGBA"
        default: "colour type \(colorType)"
        }
    }

    init(bytes: [UInt8], path: String, droppingTransparency: Bool = false) throws {
        if bytes.isEmpty { throw ImageFileError(path, "the file is empty, not a PNG image") }
        guard bytes.starts(with: Self.signature) else {
            if let format = Self.otherFormat(bytes) {
                throw ImageFileError(path, "\(format) is not supported yet (only PNG)")
            }
            if Self.signature.starts(with: bytes) {
                throw ImageFileError(path, "truncated PNG: the file ends inside the 8-byte signature (\(bytes.count) bytes)")
            }
            let head = bytes.prefix(8).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: " ")
            throw ImageFileError(path, "not a PNG image (the file starts with \(head), not the PNG signature 89 50 4e 47 0d 0a 1a 0a)")
        }

        var offset = Self.signature.count
        var dropped: [Range<Int>] = []
        var header: (width: Int, height: Int, bitDepth: Int, colorType: Int, interlaced: Bool)?
        var sawImageData = false, sawEnd = false, sawTransparency = false
        while offset < bytes.count {
            guard bytes.count - offset >= 8 else {
                throw ImageFileError(path, "truncated PNG: the file ends inside a chunk header at byte \(offset) (file size \(bytes.count))")
            }
            let length = Self.bigEndian32(bytes, offset)
            let type = String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self)
            guard length <= 0x7FFF_FFFF else {
                throw ImageFileError(path, "corrupt PNG: chunk at byte \(offset) claims \(length) bytes (more than PNG allows)")
            }
            guard bytes[(offset + 4)..<(offset + 8)].allSatisfy({ ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) }) else {
                throw ImageFileError(path, "corrupt PNG: invalid chunk type at byte \(offset)")
            }
            let end = offset + 12 + length
            guard end <= bytes.count else {
                throw ImageFileError(path, "truncated PNG: chunk '\(type)' at byte \(offset) needs \(12 + length) bytes but the file ends after \(bytes.count - offset)")
            }
            if header == nil {
                guard type == "IHDR", length == 13 else {
                    throw ImageFileError(path, "corrupt PNG: the first chunk is '\(type)' (\(length) bytes), not a 13-byte IHDR header")
                }
                let width = Self.bigEndian32(bytes, offset + 8), height = Self.bigEndian32(bytes, offset + 12)
                if width == 0 || height == 0 {
                    throw ImageFileError(path, "the PNG header says the image is \(width)x\(height); an image needs at least one pixel")
                }
                header = (width, height, Int(bytes[offset + 16]), Int(bytes[offset + 17]), bytes[offset + 20] != 0)
            }
            switch type {
            case "IDAT": sawImageData = true
            case "tRNS": sawTransparency = true
            case "IEND": sawEnd = true
            default: break
            }
            if Self.colourSpaceChunks.contains(type) || (droppingTransparency && type == "tRNS") {
                dropped.append(offset..<end)
            }
            offset = end
            if sawEnd { break }
        }
        guard let header else { throw ImageFileError(path, "truncated PNG: the file ends right after the signature") }
        guard sawImageData else {
            throw ImageFileError(path, sawEnd ? "corrupt PNG: no image data (IDAT chunk)" : "truncated PNG: the file ends before any image data")
        }
        guard sawEnd else { throw ImageFileError(path, "truncated PNG: the file ends before the IEND chunk") }
        width = header.width
        height = header.height
        bitDepth = header.bitDepth
        colorType = header.colorType
        interlaced = header.interlaced
        hasTransparencyChunk = sawTransparency
        if dropped.isEmpty {
            decodable = bytes
        } else {
            var kept: [UInt8] = []
            kept.reserveCapacity(bytes.count)
            var start = 0
            for range in dropped {
                kept.append(contentsOf: bytes[start..<range.lowerBound])
                start = range.upperBound
            }
            kept.append(contentsOf: bytes[start...])
            decodable = kept
        }
    }

    /// Names formats people commonly pass by mistake, from their magic numbers.
    private static func otherFormat(_ bytes: [UInt8]) -> String? {
        func starts(_ magic: [UInt8]) -> Bool { bytes.starts(with: magic) }
        if starts([0xFF, 0xD8, 0xFF]) { return "JPEG" }
        if starts([0x49, 0x49, 0x2A, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2A])
            || starts([0x49, 0x49, 0x2B, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2B])
        {
            return "TIFF"
        }
        if starts(Array("GIF8".utf8)) { return "GIF" }
        if starts(Array("BM".utf8)) && bytes.count >= 14 { return "BMP" }
        if starts(Array("RIFF".utf8)) && bytes.count >= 12 && Array(bytes[8..<12]) == Array("WEBP".utf8) { return "WebP" }
        if starts([0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20]) || starts([0xFF, 0x4F, 0xFF, 0x51]) { return "JPEG 2000" }
        return nil
    }

    private static func bigEndian32(_ bytes: [UInt8], _ offset: Int) -> Int {
        Int(bytes[offset]) << 24 | Int(bytes[offset + 1]) << 16 | Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
    }
}
