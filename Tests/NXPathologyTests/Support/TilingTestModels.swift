import NXIR
import NXPathology

/// Tiny models with known outputs for the tiling and stitching tests, built with GraphBuilder.
enum TilingTestModels {
    /// HistoNeXt's geometry (HISTONEXT.md §5) and HoVer-Net's.
    static let histoNeXt = (inputSize: 270, outputSize: 80, stride: 2, offset: 55)
    static let hoverNet = (inputSize: 270, outputSize: 80, stride: 1, offset: 95)

    static func metadata(
        inputSize: Int, outputSize: Int, stride: Int, offset: Int, scale: String = "1", classNames: String? = "background,red,green"
    ) -> [String: String] {
        var metadata = [
            "nx.family": "test", "nx.input_size": "\(inputSize)", "nx.output_size": "\(outputSize)",
            "nx.output_stride": "\(stride)", "nx.output_offset": "\(offset)", "nx.output_window": "\(outputSize * stride)",
            "nx.output_names": "np,hv,tp", "nx.input_scale": scale, "nx.input_mean": "0,0,0", "nx.input_std": "1,1,1",
        ]
        if let classNames {
            metadata["nx.class_names"] = classNames
            metadata["nx.num_types"] = "\(classNames.split(separator: ",").count)"
        }
        return metadata
    }

    /// A model whose outputs are a known function of the input pixel each output pixel
    /// samples: output (i, j) reads the input pixel at `offset + stride*i`, `offset + stride*j`
    /// (the top-left pixel of the block it covers), and with `nx.input_scale` 1 the input is
    /// the raw bytes R, G, B. Then
    ///   hv = (R + 256*B, G)                      (image coordinates when R, B, G encode them)
    ///   np logits = (0, (R - 128) / 64)          -> probability sigmoid((R - 128) / 64)
    ///   tp logits = (0, R / 64, G / 64)
    /// `batch` nil gives a symbolic batch dimension.
    static func coordinateModel(
        inputSize: Int, outputSize: Int, stride: Int, offset: Int, batch: Int? = nil
    ) -> Model {
        let b = GraphBuilder(opset: 17)
        let batchDimension: Dimension = batch.map(Dimension.fixed) ?? "batch"
        let x = b.input("input", shape: [batchDimension, 3, .fixed(inputSize), .fixed(inputSize)])
        let window = outputSize * stride
        let crop = b.slice(x, starts: [offset, offset], ends: [offset + window, offset + window], axes: [2, 3], steps: [stride, stride])
        func conv1x1(_ name: String, _ weights: [[Float]], _ bias: [Float]) -> Value {
            let w = b.initializer("\(name).weight", Tensor(shape: [weights.count, 3, 1, 1], scalars: weights.flatMap { $0 }))
            let bb = b.initializer("\(name).bias", Tensor(shape: [bias.count], scalars: bias))
            return b.conv(crop, w, bias: bb)
        }
        b.output(conv1x1("np", [[0, 0, 0], [1.0 / 64, 0, 0]], [0, -2]), name: "np")
        b.output(conv1x1("hv", [[1, 0, 256], [0, 1, 0]], [0, 0]), name: "hv")
        b.output(conv1x1("tp", [[0, 0, 0], [1.0 / 64, 0, 0], [0, 1.0 / 64, 0]], [0, 0, 0]), name: "tp")
        return b.model(metadata: metadata(inputSize: inputSize, outputSize: outputSize, stride: stride, offset: offset))
    }

    /// An image whose pixels encode their own coordinates: R = x mod 256, B = x / 256, G = y.
    /// Heights up to 256.
    static func coordinateImage(width: Int, height: Int) -> RGBImage {
        precondition(height <= 256 && width < 65536)
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let index = (y * width + x) * 3
                pixels[index] = UInt8(x % 256)
                pixels[index + 1] = UInt8(y)
                pixels[index + 2] = UInt8(x / 256)
            }
        }
        return RGBImage(width: width, height: height, pixels: pixels)!
    }
}
