import CPNG
import Foundation

/// Reads PNG files with libpng's simplified API (`png_image_*`), which reports errors in
/// `png_image.message` instead of longjmp-ing through Swift frames.
///
/// `read` converts every PNG flavour to 8-bit RGB: gray, gray+alpha, RGB, RGBA and palette
/// images at bit depths 1 to 16, interlaced or not. Transparency (an alpha channel or a tRNS
/// chunk) is **dropped, not composited**: the stored colour of every pixel is kept even where
/// alpha is 0, as OpenCV's `imread(..., IMREAD_COLOR)` does. 16-bit samples are scaled to 8 bits
/// with rounding (v * 255 / 65535, libpng's `png_set_scale_16`). Colour-space chunks (gAMA,
/// sRGB, iCCP, cHRM) are ignored, so samples come out as stored, like PIL and OpenCV.
///
/// One combination is refused: a 16-bit *interlaced* image with an alpha channel that is not
/// fully opaque. libpng 1.6.39's simplified reader garbles interlaced 16-to-8-bit reads
/// (libpng issue #853), and its 16-bit output premultiplies by alpha, so such pixels' colours
/// cannot be recovered; the error says so. Fully opaque ones read exactly.
public enum PNGImage {
    /// The image at `path` as 8-bit RGB.
    public static func read(path: String) throws -> RGBImage {
        // tRNS only makes alpha, which is dropped: leave it out so libpng composes nothing.
        let container = try PNGContainer(bytes: readFile(path), path: path, droppingTransparency: true)
        let hasAlpha = container.colorType == 4 || container.colorType == 6
        let pixelCount = container.width * container.height
        if container.bitDepth == 16 && (!hasAlpha || container.interlaced) {
            // 16 -> 8 bits is done here, not by libpng: libpng 1.6's simplified reader garbles
            // interlaced 16-bit images when it scales them (libpng issue #853). Linear in,
            // linear out leaves the samples as stored.
            let channels = hasAlpha ? 4 : 3
            let count = try byteCount(container, channels: channels, bytesPerSample: 2, path: path) / 2
            var samples = [UInt16](repeating: 0, count: count)
            try samples.withUnsafeMutableBytes { buffer in
                try decode(container, into: buffer, format: hasAlpha ? Format.linearRGBA : Format.linearRGB, sixteenBitIsSRGB: false, path: path)
            }
            if hasAlpha {
                // Linear output with alpha comes premultiplied (libpng has no other mode), which
                // is lossless only where alpha is opaque.
                if let index = stride(from: 3, to: samples.count, by: 4).first(where: { samples[$0] != 65535 }) {
                    let pixel = index / 4
                    throw ImageFileError(
                        path,
                        "16-bit interlaced PNG with transparency (pixel x=\(pixel % container.width), y=\(pixel / container.width) has alpha \(samples[index])): libpng cannot return its colours without compositing them (libpng issue #853); save it without interlacing, without alpha or at 8 bits")
                }
            }
            var pixels = [UInt8](repeating: 0, count: pixelCount * 3)
            for pixel in 0..<pixelCount {
                for c in 0..<3 { pixels[pixel * 3 + c] = scale16(samples[pixel * channels + c]) }
            }
            return RGBImage(width: container.width, height: container.height, pixels: pixels)!
        }
        let channels = hasAlpha ? 4 : 3
        let count = try byteCount(container, channels: channels, bytesPerSample: 1, path: path)
        var decoded = [UInt8](repeating: 0, count: count)
        try decoded.withUnsafeMutableBytes { buffer in
            // (16-bit with alpha, not interlaced: libpng scales correctly when told the samples
            // are sRGB-encoded rather than linear; that keeps colours under alpha 0.)
            try decode(container, into: buffer, format: hasAlpha ? Format.rgba : Format.rgb, sixteenBitIsSRGB: true, path: path)
        }
        if hasAlpha {
            // Drop alpha in place: pixel i moves from 4i to 3i, never overtaking its source.
            decoded.withUnsafeMutableBufferPointer { bytes in
                for pixel in 0..<pixelCount {
                    bytes[3 * pixel] = bytes[4 * pixel]
                    bytes[3 * pixel + 1] = bytes[4 * pixel + 1]
                    bytes[3 * pixel + 2] = bytes[4 * pixel + 2]
                }
            }
            decoded.removeLast(pixelCount)
        }
        return RGBImage(width: container.width, height: container.height, pixels: decoded)!
    }

    /// A 16-bit sample to 8 bits, rounded to nearest: round(v * 255 / 65535), which is what
    /// libpng's `png_set_scale_16` computes.
    static func scale16(_ value: UInt16) -> UInt8 { UInt8((UInt32(value) * 255 + 32767) / 65535) }

    /// A grayscale PNG's raw samples (bit depth 1 to 16) as 16-bit values, for label maps
    /// written as 16-bit PNGs. Samples below 8 bits are returned unscaled (a 1-bit mask gives
    /// 0 and 1). Colour, palette and transparent images are refused: their samples are not
    /// labels.
    public static func readGray16(path: String) throws -> GrayImage<UInt16> {
        let container = try PNGContainer(bytes: readFile(path), path: path)
        guard container.colorType == 0 else {
            throw ImageFileError(path, "expected a grayscale PNG (label map), found \(container.colorTypeName) at \(container.bitDepth) bits")
        }
        guard !container.hasTransparencyChunk else {
            throw ImageFileError(path, "the grayscale PNG has a tRNS (transparency) chunk; a label map must not be transparent")
        }
        if container.bitDepth == 16 {
            let count = try byteCount(container, channels: 1, bytesPerSample: 2, path: path) / 2
            var samples = [UInt16](repeating: 0, count: count)
            try samples.withUnsafeMutableBytes { (buffer) in
                // Linear in, linear out: libpng leaves the 16-bit samples as they are.
                try decode(container, into: buffer, format: Format.linearGray, sixteenBitIsSRGB: false, path: path)
            }
            return GrayImage(width: container.width, height: container.height, pixels: samples)!
        }
        let count = try byteCount(container, channels: 1, bytesPerSample: 1, path: path)
        var samples = [UInt8](repeating: 0, count: count)
        try samples.withUnsafeMutableBytes { (buffer) in
            try decode(container, into: buffer, format: Format.gray, sixteenBitIsSRGB: false, path: path)
        }
        // libpng expands 1/2/4-bit samples to 8 bits by exact multiples (255, 85, 17): undo it.
        let scale = UInt8(255 / ((1 << min(container.bitDepth, 8)) - 1))
        return GrayImage(width: container.width, height: container.height, pixels: samples.map { UInt16($0 / scale) })!
    }

    /// A grayscale PNG as a label map (0 = background), e.g. `instances.png` or a ground
    /// truth instance map saved as a 16-bit PNG.
    public static func readLabelMap(path: String) throws -> LabelMap {
        try readGray16(path: path).converted(to: Int32.self)
    }

    // MARK: libpng

    /// libpng's PNG_FORMAT_* values; the composite ones are macros Swift does not import.
    enum Format {
        static let gray = UInt32(0)
        static let rgb = UInt32(PNG_FORMAT_FLAG_COLOR)
        static let rgba = UInt32(PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_ALPHA)
        static let linearGray = UInt32(PNG_FORMAT_FLAG_LINEAR)
        static let linearRGB = UInt32(PNG_FORMAT_FLAG_LINEAR | PNG_FORMAT_FLAG_COLOR)
        static let linearRGBA = UInt32(PNG_FORMAT_FLAG_LINEAR | PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_ALPHA)
    }

    private static func readFile(_ path: String) throws -> [UInt8] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ImageFileError(path, "no such file")
        }
        if isDirectory.boolValue { throw ImageFileError(path, "is a directory, not a PNG image") }
        do {
            return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe))
        } catch {
            throw ImageFileError(path, "cannot read: \(error.localizedDescription)")
        }
    }

    /// Bytes the decoded image needs, refusing sizes that overflow or that libpng cannot
    /// address (it limits one image to 4 GiB).
    private static func byteCount(_ container: PNGContainer, channels: Int, bytesPerSample: Int, path: String) throws -> Int {
        let (pixels, overflow1) = container.width.multipliedReportingOverflow(by: container.height)
        let (bytes, overflow2) = pixels.multipliedReportingOverflow(by: channels * bytesPerSample)
        guard !overflow1, !overflow2, bytes < (1 << 32) else {
            throw ImageFileError(path, "the image is \(container.width)x\(container.height), too large to decode in one piece")
        }
        return bytes
    }

    /// Decodes `container` into `buffer`, which holds exactly the pixels in `format`.
    private static func decode(
        _ container: PNGContainer, into buffer: UnsafeMutableRawBufferPointer, format: UInt32,
        sixteenBitIsSRGB: Bool, path: String
    ) throws {
        var image = png_image()
        image.version = png_uint_32(PNG_IMAGE_VERSION)
        defer { png_image_free(&image) }
        let failure: String? = container.decodable.withUnsafeBytes { stream in
            guard png_image_begin_read_from_memory(&image, stream.baseAddress, stream.count) != 0 else {
                return libpngMessage(&image)
            }
            guard Int(image.width) == container.width, Int(image.height) == container.height else {
                return "libpng read \(image.width)x\(image.height), the header says \(container.width)x\(container.height)"
            }
            // Without this flag libpng assumes 16-bit samples are linear light and re-encodes
            // them with the sRGB curve when producing 8 bits.
            if sixteenBitIsSRGB { image.flags |= png_uint_32(PNG_IMAGE_FLAG_16BIT_sRGB) }
            image.format = format
            guard png_image_finish_read(&image, nil, buffer.baseAddress, 0, nil) != 0 else {
                return libpngMessage(&image)
            }
            return nil
        }
        if let failure { throw ImageFileError(path, "corrupt or truncated PNG: \(failure)") }
    }

    private static func libpngMessage(_ image: inout png_image) -> String {
        let text = withUnsafeBytes(of: &image.message) { raw in String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self) }
        return text.isEmpty ? "libpng reported an error without a message" : text
    }
}
