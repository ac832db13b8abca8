import CPNG

/// Encodes PNG files with libpng's simplified API (errors come back as values, never as a
/// longjmp) and writes them atomically: 8-bit RGB, 8-bit gray, and 16-bit gray for instance
/// maps with up to 65535 ids. 16-bit samples are written exactly as given (libpng marks the
/// file linear with gAMA 1.0; readers that ignore gAMA, and `PNGImage.readGray16`, get the
/// values back unchanged).
public enum PNGWriter {
    public static func write(_ image: RGBImage, to path: String) throws {
        try AtomicWrite.write(encode(image, path: path), to: path)
    }

    public static func write(_ image: GrayImage<UInt8>, to path: String) throws {
        try AtomicWrite.write(encode(image, path: path), to: path)
    }

    public static func write(_ image: GrayImage<UInt16>, to path: String) throws {
        try AtomicWrite.write(encode(image, path: path), to: path)
    }

    /// A label map as a 16-bit gray PNG; every label must lie in 0...65535.
    public static func writeLabels(_ labels: LabelMap, to path: String) throws {
        try write(sixteenBit(labels, path: path), to: path)
    }

    /// The labels as 16-bit samples, or an error naming the first pixel that does not fit.
    static func sixteenBit(_ labels: LabelMap, path: String) throws -> GrayImage<UInt16> {
        if let index = labels.pixels.firstIndex(where: { $0 < 0 || $0 > 65535 }) {
            let value = labels.pixels[index]
            throw ImageFileError(path, "label \(value) at x=\(index % labels.width), y=\(index / labels.width) does not fit a 16-bit PNG (0...65535)")
        }
        return GrayImage<UInt16>(width: labels.width, height: labels.height, pixels: labels.pixels.map { UInt16($0) })!
    }

    // MARK: Encoding

    public static func encode(_ image: RGBImage, path: String = "<memory>") throws -> [UInt8] {
        try image.pixels.withUnsafeBytes {
            try encode($0, width: image.width, height: image.height, format: PNGImage.Format.rgb, path: path)
        }
    }

    public static func encode(_ image: GrayImage<UInt8>, path: String = "<memory>") throws -> [UInt8] {
        try image.pixels.withUnsafeBytes {
            try encode($0, width: image.width, height: image.height, format: PNGImage.Format.gray, path: path)
        }
    }

    public static func encode(_ image: GrayImage<UInt16>, path: String = "<memory>") throws -> [UInt8] {
        try image.pixels.withUnsafeBytes {
            try encode($0, width: image.width, height: image.height, format: PNGImage.Format.linearGray, path: path)
        }
    }

    /// Compresses into a buffer sized for a typical result; libpng says when that is too
    /// small and how much it needs, and only then is the image compressed a second time.
    private static func encode(
        _ pixels: UnsafeRawBufferPointer, width: Int, height: Int, format: UInt32, path: String
    ) throws -> [UInt8] {
        guard width <= Int(Int32.max), height <= Int(Int32.max) else {
            throw ImageFileError(path, "a \(width)x\(height) image is too large for PNG")
        }
        var capacity = pixels.count + pixels.count / 8 + height + 4096
        for _ in 0..<2 {
            var image = png_image()
            image.version = png_uint_32(PNG_IMAGE_VERSION)
            image.width = png_uint_32(width)
            image.height = png_uint_32(height)
            image.format = format
            // zlib level 3 without row filters: deflate at libpng's default level took
            // 0.3 s of `nx segment`'s output writing for a 1000 x 1000 image, 8% of its overhead.
            image.flags = png_uint_32(PNG_IMAGE_FLAG_FAST)
            defer { png_image_free(&image) }
            var output = [UInt8](repeating: 0, count: capacity)
            var size = png_alloc_size_t(capacity)
            let ok = output.withUnsafeMutableBytes { buffer in
                png_image_write_to_memory(&image, buffer.baseAddress, &size, 0, pixels.baseAddress, 0, nil)
            }
            if ok != 0 {
                output.removeLast(output.count - Int(size))
                return output
            }
            if Int(size) > capacity {
                capacity = Int(size)
                continue
            }
            let message = withUnsafeBytes(of: &image.message) { raw in String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self) }
            throw ImageFileError(path, "cannot encode PNG: \(message.isEmpty ? "libpng failed without a message" : message)")
        }
        throw ImageFileError(path, "cannot encode PNG: libpng asked for a larger buffer twice")
    }
}
