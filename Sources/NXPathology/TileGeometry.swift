/// Where a model's output lands on its input, read from the model's metadata (never assumed):
/// a square `inputSize` input gives a square `outputSize` output in which pixel `i` covers
/// input pixels `outputOffset + outputStride*i ..< outputOffset + outputStride*(i+1)`. The
/// output therefore covers the input window `[outputOffset, outputOffset + outputWindow)`.
///
/// HistoNeXt: 270 -> 80 at stride 2, offset 55, window 160. HoVer-Net: 270 -> 80 at stride
/// 1, offset 95, window 80. Tiles step by `outputWindow` so the covered windows meet edge to
/// edge (see `TileLayout`).
public struct TileGeometry: Equatable, Sendable {
    public let inputSize: Int
    public let outputSize: Int
    public let outputStride: Int
    public let outputOffset: Int
    public let outputWindow: Int

    /// The metadata keys this reads, all required.
    public static let metadataKeys = ["nx.input_size", "nx.output_size", "nx.output_stride", "nx.output_offset", "nx.output_window"]

    /// Checks the invariants of HISTONEXT.md §8: window = size * stride, the window lies
    /// inside the input, and it is centred: offset = (input - window) / 2.
    public init(inputSize: Int, outputSize: Int, outputStride: Int, outputOffset: Int, outputWindow: Int) throws {
        func fail(_ key: String, _ message: String) -> ModelContractError { .metadata(key: key, message: message) }
        guard inputSize > 0 else { throw fail("nx.input_size", "must be positive, is \(inputSize)") }
        guard outputSize > 0 else { throw fail("nx.output_size", "must be positive, is \(outputSize)") }
        guard outputStride > 0 else { throw fail("nx.output_stride", "must be positive, is \(outputStride)") }
        guard outputWindow == outputSize * outputStride else {
            throw fail("nx.output_window", "is \(outputWindow) but must equal nx.output_size * nx.output_stride = \(outputSize) * \(outputStride) = \(outputSize * outputStride)")
        }
        guard outputOffset >= 0, outputOffset + outputWindow <= inputSize else {
            throw fail("nx.output_offset", "\(outputOffset) puts the \(outputWindow)-pixel output window outside the \(inputSize)-pixel input")
        }
        guard 2 * outputOffset == inputSize - outputWindow else {
            throw fail("nx.output_offset", "is \(outputOffset) but a centred window needs (nx.input_size - nx.output_window) / 2 = (\(inputSize) - \(outputWindow)) / 2")
        }
        self.inputSize = inputSize
        self.outputSize = outputSize
        self.outputStride = outputStride
        self.outputOffset = outputOffset
        self.outputWindow = outputWindow
    }

    /// Reads the geometry from a model's `metadata_props`; every key is required.
    public init(metadata: [String: String]) throws {
        let reader = MetadataReader(metadata: metadata)
        try self.init(
            inputSize: reader.int("nx.input_size"), outputSize: reader.int("nx.output_size"),
            outputStride: reader.int("nx.output_stride"), outputOffset: reader.int("nx.output_offset"),
            outputWindow: reader.int("nx.output_window"))
    }

    /// Input coordinate of the centre of output pixel `i` (pixel `p` has its centre at `p`):
    /// output pixel `i` covers input pixels `offset + stride*i ... offset + stride*i + stride-1`,
    /// so its centre is `offset + stride*i + (stride-1)/2`, e.g. `55 + 2i + 0.5` for HistoNeXt.
    public func outputCenter(_ i: Int) -> Double {
        Double(outputOffset + outputStride * i) + Double(outputStride - 1) / 2
    }

    /// The tiles covering a `width` x `height` image.
    public func layout(width: Int, height: Int) -> TileLayout {
        TileLayout(geometry: self, width: width, height: height)
    }
}

/// The tiles that cover an image, as HoVer-Net's `_prepare_patching` lays them out: tile
/// `(row, column)` reads the `inputSize` square whose top-left image pixel is
/// `(column*window - offset, row*window - offset)` (negative or past the image where it
/// reaches over the border: those pixels come from `ReflectPadding`), and its output covers
/// image pixels `[column*window, (column+1)*window) x [row*window, (row+1)*window)`. The
/// covered windows meet edge to edge, so each image pixel is covered by exactly one tile;
/// the last row and column of tiles reach past the image and their extra output is cropped.
public struct TileLayout: Equatable, Sendable {
    public let geometry: TileGeometry
    public let width: Int
    public let height: Int
    /// Tile rows (`ceil(height / window)`) and columns (`ceil(width / window)`), at least 1.
    public let rows: Int
    public let columns: Int

    public init(geometry: TileGeometry, width: Int, height: Int) {
        precondition(width > 0 && height > 0, "image sizes must be positive, got \(width)x\(height)")
        self.geometry = geometry
        self.width = width
        self.height = height
        rows = (height + geometry.outputWindow - 1) / geometry.outputWindow
        columns = (width + geometry.outputWindow - 1) / geometry.outputWindow
    }

    public var count: Int { rows * columns }

    /// Tiles in raster order: row by row (horizontal strips), left to right.
    public func tile(_ index: Int) -> Tile { tile(row: index / columns, column: index % columns) }

    public func tile(row: Int, column: Int) -> Tile {
        let window = geometry.outputWindow
        return Tile(
            row: row, column: column,
            inputX: column * window - geometry.outputOffset, inputY: row * window - geometry.outputOffset,
            coveredX: (column * window)..<min((column + 1) * window, width),
            coveredY: (row * window)..<min((row + 1) * window, height))
    }

    /// Rows and columns of the stitched low-resolution grid (`rows * outputSize` by
    /// `columns * outputSize`): global output pixel `g` has its centre at image coordinate
    /// `stride*g + (stride-1)/2`, seamlessly across tiles.
    public var gridHeight: Int { rows * geometry.outputSize }
    public var gridWidth: Int { columns * geometry.outputSize }
}

/// One tile: where its input square starts in image coordinates (possibly outside the
/// image), and which image pixels its output covers (clipped to the image).
public struct Tile: Equatable, Sendable {
    public let row: Int
    public let column: Int
    public let inputX: Int
    public let inputY: Int
    public let coveredX: Range<Int>
    public let coveredY: Range<Int>
}
