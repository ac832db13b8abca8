import NXIR

/// ONNX MaxPool, float32, 1 to 3 spatial dimensions, with auto_pad, pads, strides,
/// dilations, ceil_mode and the optional Indices output (int64 positions in the flattened
/// input, row-major, or column-major over the spatial dimensions with storage_order 1).
/// Padding never wins: only real input values are compared; the first maximum is kept.
struct MaxPoolKernel: Kernel {
    let attributes: SpatialAttributes
    let ceilMode: Bool
    let columnMajor: Bool
    let wantsIndices: Bool

    init(_ context: KernelBuildContext) throws {
        attributes = try SpatialAttributes(context)
        ceilMode = try context.int("ceil_mode", default: 0) != 0
        columnMajor = try context.int("storage_order", default: 0) != 0
        wantsIndices = context.node.outputs.count > 1 && !context.node.outputs[1].isEmpty
    }

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        guard let x = inputs.first ?? nil else { throw KernelError("needs input X") }
        try LinearSupport.requireFloat32(x, "input X")
        guard x.rank >= 3 else { throw KernelError("input X must be [N, C, spatial...], is \(x.shape)") }
        let pool = try PoolGeometry(attributes, ceilMode: ceilMode, input: Array(x.shape[2...]))
        let g = pool.geometry
        let planes = x.shape[0] * x.shape[1]
        let shape = Array(x.shape[0..<2]) + g.outputShape
        let (y, yData) = context.allocateFloats(shape)
        let indices = wantsIndices ? context.allocate(.int64, shape) : nil
        let indexData = indices?.data.assumingMemoryBound(to: Int64.self)
        if y.elementCount == 0 { return [y] + (indices.map { [$0.tensor] } ?? []) }
        let (d0, d1, d2) = (g.d0, g.d1, g.d2)
        let inputSize = g.inputSize, outputSize = g.outputSize
        // Strides of a position (z, y, x) in the reported index: the plane's spatial layout
        // row-major, or column-major (first spatial dimension fastest).
        let indexStrides = columnMajor ? (1, d0.input, d0.input * d1.input) : (d1.input * d2.input, d2.input, 1)
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
                                            var best = -Float.greatestFiniteMagnitude
                                            var bestPosition = -1
                                            for kz in wz.first..<wz.last {
                                                let iz = wz.start + kz * d0.dilation
                                                for ky in wy.first..<wy.last {
                                                    let iy = wy.start + ky * d1.dilation
                                                    let line = source + (iz * d1.input + iy) * d2.input
                                                    for kx in wx.first..<wx.last {
                                                        let ix = wx.start + kx * d2.dilation
                                                        let value = line[ix]
                                                        if value > best || bestPosition < 0 {
                                                            best = value
                                                            bestPosition = iz * indexStrides.0 + iy * indexStrides.1 + ix * indexStrides.2
                                                        }
                                                    }
                                                }
                                            }
                                            yData[out] = best
                                            if let indexData {
                                                indexData[out] = Int64(plane * inputSize + max(bestPosition, 0))
                                            }
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
        return [y] + (indices.map { [$0.tensor] } ?? [])
    }
}
