/// Fills a model's input for a batch of tiles: NCHW float32, each tile's `inputSize` square
/// read from the image through `ReflectPadding` (so tiles over the border see numpy-reflected
/// pixels) and normalised by table lookup.
struct TileInputBuilder {
    let image: RGBImage
    let layout: TileLayout
    private let table: [Float]

    init(image: RGBImage, layout: TileLayout, normalization: InputNormalization) {
        self.image = image
        self.layout = layout
        self.table = normalization.lookupTable
    }

    /// Writes tile `tile` as sample `slot` of `destination` (`3 * size * size` floats per
    /// sample, channel planes R, G, B).
    func fill(_ tile: Tile, into destination: UnsafeMutablePointer<Float>, slot: Int) {
        let size = layout.geometry.inputSize
        let plane = size * size
        let base = destination + slot * 3 * plane
        let width = image.width, height = image.height
        let columns = (0..<size).map { ReflectPadding.index(tile.inputX + $0, count: width) * 3 }
        image.pixels.withUnsafeBufferPointer { pixels in
            table.withUnsafeBufferPointer { table in
                columns.withUnsafeBufferPointer { columns in
                    for y in 0..<size {
                        let row = ReflectPadding.index(tile.inputY + y, count: height) * width * 3
                        let red = base + y * size, green = red + plane, blue = green + plane
                        for x in 0..<size {
                            let source = row + columns[x]
                            red[x] = table[Int(pixels[source])]
                            green[x] = table[256 + Int(pixels[source + 1])]
                            blue[x] = table[512 + Int(pixels[source + 2])]
                        }
                    }
                }
            }
        }
    }
}
