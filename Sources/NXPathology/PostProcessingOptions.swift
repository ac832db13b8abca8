/// The constants of HoVer-Net's post-processing. The defaults are HoVer-Net's own
/// (vqdang/hover_net, models/hovernet/post_proc.py); Spec/POSTPROCESSING.md §3 gives each
/// one's reason. Changing one leaves HoVer-Net's algorithm, so only tests and studies should.
public struct PostProcessingOptions: Sendable, Equatable {
    /// NP probability at or above which a pixel is foreground (`blb_raw >= 0.5`).
    public var foregroundThreshold: Float
    /// Foreground components and markers with fewer pixels are dropped (`min_size=10`).
    public var minimumObjectSize: Int
    /// Aperture of the Sobel derivative of the HV maps (`ksize=21`): odd, 3...31 as in OpenCV.
    public var sobelKernelSize: Int
    /// Energy at or above which a foreground pixel counts as a nucleus border, not a marker
    /// (`overall >= 0.4`).
    public var markerThreshold: Double
    /// Size of the elliptical structuring element of the marker opening (`(5, 5)`).
    public var openingKernelSize: Int
    /// How the watershed prices a pixel: scikit-image 0.25.1 and later (the pinned reference)
    /// or the releases before 0.25, such as the 0.17.2 HoVer-Net's requirements.txt pins.
    public var watershedCost: WatershedCost
    /// Which contour points a record keeps: every border pixel (OpenCV's CHAIN_APPROX_NONE)
    /// or only the ends of straight runs (CHAIN_APPROX_SIMPLE, what HoVer-Net stores).
    public var contourApproximation: ContourApproximation

    public init(
        foregroundThreshold: Float = 0.5, minimumObjectSize: Int = 10, sobelKernelSize: Int = 21,
        markerThreshold: Double = 0.4, openingKernelSize: Int = 5, watershedCost: WatershedCost = .raisedToSource,
        contourApproximation: ContourApproximation = .none
    ) {
        self.foregroundThreshold = foregroundThreshold
        self.minimumObjectSize = minimumObjectSize
        self.sobelKernelSize = sobelKernelSize
        self.markerThreshold = markerThreshold
        self.openingKernelSize = openingKernelSize
        self.watershedCost = watershedCost
        self.contourApproximation = contourApproximation
    }

    /// Throws for values OpenCV or the algorithm would reject, naming the option.
    func validate() throws(PostProcessingError) {
        guard foregroundThreshold.isFinite else {
            throw .invalidOption("foregroundThreshold", "must be a finite number, got \(foregroundThreshold)")
        }
        guard minimumObjectSize >= 0 else {
            throw .invalidOption("minimumObjectSize", "must not be negative, got \(minimumObjectSize)")
        }
        // OpenCV turns ksize 1 into a 3x1 kernel and rejects even sizes and sizes above 31.
        guard sobelKernelSize >= 3, sobelKernelSize <= 31, sobelKernelSize % 2 == 1 else {
            throw .invalidOption("sobelKernelSize", "must be odd and in 3...31, got \(sobelKernelSize)")
        }
        guard markerThreshold.isFinite else {
            throw .invalidOption("markerThreshold", "must be a finite number, got \(markerThreshold)")
        }
        guard openingKernelSize >= 1, openingKernelSize <= 255 else {
            throw .invalidOption("openingKernelSize", "must be in 1...255, got \(openingKernelSize)")
        }
    }
}

/// The cost with which scikit-image's watershed queues a pixel. The two differ only in which
/// front reaches a contested pixel first when one front has climbed higher than the other.
public enum WatershedCost: Sendable, Equatable {
    /// The pixel's value, raised to at least the cost of the pixel that queued it
    /// (scikit-image 0.25.1 and later).
    case raisedToSource
    /// The pixel's value alone (scikit-image before 0.25).
    case pixelValue
}

/// How a contour is stored, as OpenCV's `findContours` methods name it.
public enum ContourApproximation: Sendable, Equatable {
    /// Every border pixel, in border-following order (CHAIN_APPROX_NONE).
    case none
    /// Only the pixels where the border changes direction (CHAIN_APPROX_SIMPLE).
    case simple
}
