/// One nucleus as HoVer-Net's `process` describes it: bounding box, centroid, outer contour
/// and (given a type map) type and type probability. Coordinates are image pixels, x = column,
/// y = row, the pixel centre at integer coordinates (OpenCV's convention).
public struct InstanceRecord: Sendable, Equatable {
    /// The label in the instance map.
    public let id: Int32
    public let boundingBox: InstanceBoundingBox
    /// Centre of mass from image moments (`m10 / m00`, `m01 / m00`), x then y.
    public let centroid: SIMD2<Double>
    /// Outer border of the instance's largest 8-connected part, x then y, in OpenCV's
    /// `findContours` order (counter-clockwise on screen, starting at the topmost-leftmost
    /// pixel); every border pixel or only direction changes, per `ContourApproximation`.
    public let contour: [SIMD2<Int32>]
    /// Number of pixels with this label.
    public let pixelCount: Int
    /// Majority TP class inside the instance (background 0 only when no other class is
    /// present; ties go to the smaller id), nil without a type map.
    public let type: Int?
    /// Pixels of the winning type / (pixelCount + 1e-6), as HoVer-Net's `type_prob`.
    public let typeProbability: Double?

    public init(
        id: Int32, boundingBox: InstanceBoundingBox, centroid: SIMD2<Double>, contour: [SIMD2<Int32>],
        pixelCount: Int, type: Int?, typeProbability: Double?
    ) {
        self.id = id
        self.boundingBox = boundingBox
        self.centroid = centroid
        self.contour = contour
        self.pixelCount = pixelCount
        self.type = type
        self.typeProbability = typeProbability
    }
}

/// Rows `rowMin..<rowMax` and columns `columnMin..<columnMax` (ends exclusive), HoVer-Net's
/// `[[rmin, cmin], [rmax, cmax]]`.
public struct InstanceBoundingBox: Sendable, Hashable {
    public let rowMin: Int
    public let columnMin: Int
    public let rowMax: Int
    public let columnMax: Int

    public init(rowMin: Int, columnMin: Int, rowMax: Int, columnMax: Int) {
        self.rowMin = rowMin
        self.columnMin = columnMin
        self.rowMax = rowMax
        self.columnMax = columnMax
    }

    public var width: Int { columnMax - columnMin }
    public var height: Int { rowMax - rowMin }
}
