import NXIR

/// ONNX AveragePool, float32, 1 to 3 spatial dimensions, with auto_pad, pads, strides,
/// ceil_mode, count_include_pad and (opset 19+) dilations. The divisor counts the window's
/// real input positions, or with count_include_pad also its positions in the pads, never
/// those ceil_mode adds past the end pad (as the ONNX reference does).
struct AveragePoolKernel: Kernel {
    let attributes: SpatialAttributes
    let ceilMode: Bool
    let countIncludePad: Bool

    init(_ context: KernelBuildContext) throws {
        attributes = try SpatialAttributes(context, dilations: context.opset >= 19)
        ceilMode = try context.int("ceil_mode", default: 0) != 0
        countIncludePad = try context.int("count_include_pad", default: 0) != 0
    }

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        guard let x = inputs.first ?? nil else { throw KernelError("needs input X") }
        try LinearSupport.requireFloat32(x, "input X")
        guard x.rank >= 3 else { throw KernelError("input X must be [N, C, spatial...], is \(x.shape)") }
        let pool = try PoolGeometry(attributes, ceilMode: ceilMode, input: Array(x.shape[2...]))
        let g = pool.geometry
        let planes = x.shape[0] * x.shape[1]
        let (y, yData) = context.allocateFloats(Array(x.shape[0..<2]) + g.outputShape)
        if y.elementCount == 0 { return [y] }
        let (d0, d1, d2) = (g.d0, g.d1, g.d2)
        let inputSize = g.inputSize, outputSize = g.outputSize
        let includePad = countIncludePad
        let work = outputSize * g.kernelSize
        LinearSupport.withFloats(x) { xData in
            pool.windows0.withUnsafeBufferPointer { w0 in
                pool.windows1.withUnsafeBufferPointer { w1 in
                    pool.windows2.withUnsafeBufferPointer { w2 in
                        context.parallelFor(planes, grain: max(1, 32768 / max(work, 1))) { range in
                            for plane in range {
                                let source = xData + plane * inputSize
                                var out = plane * outputSize
                                for wz in w0 {
                                    for wy in w1 {
                                        for wx in w2 {
                                            var sum: Float = 0
                                            for kz in wz.first..<wz.last {
                                                let iz = wz.start + kz * d0.dilation
                                                for ky in wy.first..<wy.last {
                                                    let iy = wy.start + ky * d1.dilation
                                                    let line = source + (iz * d1.input + iy) * d2.input + wx.start
                                                    for kx in wx.first..<wx.last { sum += line[kx * d2.dilation] }
                                                }
                                            }
                                            let count = includePad
                                                ? wz.padded * wy.padded * wx.padded
                                                : (wz.last - wz.first) * (wy.last - wy.first) * (wx.last - wx.first)
                                            yData[out] = sum / Float(count)
                                            out += 1
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return [y]
    }
}
