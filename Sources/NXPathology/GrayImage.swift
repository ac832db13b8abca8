/// A one-channel image of `Pixel` values (row-major, `width * height` of them): 8-bit type
/// maps, 16-bit PNG samples, and (as `LabelMap`) Int32 instance or class label maps.
public struct GrayImage<Pixel: FixedWidthInteger & Sendable>: Equatable, Sendable {
    public let width: Int
    public let height: Int
    public var pixels: [Pixel]

    /// Fails (returns nil) unless both sizes are positive and `pixels` has `width * height`
    /// values.
    public init?(width: Int, height: Int, pixels: [Pixel]) {
        guard width > 0, height > 0, width.multipliedReportingOverflow(by: height).overflow == false,
            pixels.count == width * height
        else { return nil }
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// An image of zeros.
    public init(width: Int, height: Int) {
        precondition(width > 0 && height > 0, "image sizes must be positive, got \(width)x\(height)")
        self.width = width
        self.height = height
        self.pixels = [Pixel](repeating: 0, count: width * height)
    }

    public subscript(x: Int, y: Int) -> Pixel {
        get { pixels[y * width + x] }
        set { pixels[y * width + x] = newValue }
    }

    /// The same image with every value converted to `Other` (which must hold every value).
    public func converted<Other: FixedWidthInteger & Sendable>(to _: Other.Type = Other.self) -> GrayImage<Other> {
        GrayImage<Other>(width: width, height: height, pixels: pixels.map { Other($0) })!
    }
}

/// Instance or class labels per pixel, 0 = background.
public typealias LabelMap = GrayImage<Int32>
