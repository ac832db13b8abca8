/// One segmented nucleus as the output writers take it, in HoVer-Net's terms (its
/// `inst_info_dict` entry): image pixel coordinates, x = column, y = row, with pixel (x, y)'s
/// centre at the integer point (x, y) as in OpenCV.
public struct Nucleus: Equatable, Sendable {
    /// An integer pixel position (a contour vertex).
    public struct Point: Hashable, Sendable {
        public var x: Int
        public var y: Int
        public init(x: Int, y: Int) {
            self.x = x
            self.y = y
        }
    }

    /// Rows `rowMin..<rowMax`, columns `columnMin..<columnMax` (ends exclusive, as HoVer-Net's
    /// `get_bounding_box`); written as `[[rmin, cmin], [rmax, cmax]]`.
    public struct BoundingBox: Hashable, Sendable {
        public var rowMin: Int
        public var columnMin: Int
        public var rowMax: Int
        public var columnMax: Int
        public init(rowMin: Int, columnMin: Int, rowMax: Int, columnMax: Int) {
            self.rowMin = rowMin
            self.columnMin = columnMin
            self.rowMax = rowMax
            self.columnMax = columnMax
        }
    }

    /// Centre of mass, x then y (HoVer-Net: `m10 / m00`, `m01 / m00`).
    public struct Centroid: Equatable, Sendable {
        public var x: Double
        public var y: Double
        public init(x: Double, y: Double) {
            self.x = x
            self.y = y
        }
    }

    /// The instance id in `instances.png` (1...65535 there).
    public var id: Int
    public var bbox: BoundingBox
    public var centroid: Centroid
    /// The outer contour, x then y, as OpenCV's `findContours` gives it (not closed: the last
    /// point is not a repeat of the first).
    public var contour: [Point]
    /// Class index into the model's class names (0 = background); nil when the model has
    /// no type branch (written as null, as HoVer-Net does).
    public var type: Int?
    /// Fraction of the nucleus' pixels that have `type` (HoVer-Net's `type_prob`); nil with
    /// `type`.
    public var typeProbability: Double?

    public init(id: Int, bbox: BoundingBox, centroid: Centroid, contour: [Point], type: Int?, typeProbability: Double?) {
        self.id = id
        self.bbox = bbox
        self.centroid = centroid
        self.contour = contour
        self.type = type
        self.typeProbability = typeProbability
    }
}
