import NXIR

/// Resize on float32 (opset 10: `scales` input, nearest or linear, asymmetric coordinates
/// like Upsample; opset 11+: roi/scales/sizes inputs with every mode and attribute, axes
/// and keep_aspect_ratio_policy from 18). Follows ONNX's reference implementation exactly:
/// interpolation is separable, so the tensor is resized one axis at a time, each output
/// position along the axis reading a few input positions with fixed weights (`ResizeTaps`).
/// Axes that do not change are skipped; when none change the input is returned as is.
struct ResizeKernel: Kernel {
    let opset: Int
    let mode: ResizeTaps.Mode
    let coordinates: ResizeTaps.Coordinates
    let nearest: ResizeTaps.NearestMode
    let cubicA: Double
    let excludeOutside: Bool
    let extrapolation: Float
    let antialias: Bool
    let axes: [Int]?
    let keepAspect: String

    init(_ context: KernelBuildContext) throws {
        opset = context.opset
        let modeName = try context.string("mode", default: "nearest")
        guard let mode = ResizeTaps.Mode(rawValue: modeName) else {
            throw KernelError("mode '\(modeName)' is not one of nearest, linear, cubic")
        }
        guard opset >= 11 || mode != .cubic else { throw KernelError("mode 'cubic' needs opset 11 or later") }
        self.mode = mode
        if opset < 11 {
            coordinates = .asymmetric
            nearest = .simple
        } else {
            let name = try context.string("coordinate_transformation_mode", default: "half_pixel")
            guard let coordinates = ResizeTaps.Coordinates(rawValue: name) else {
                throw KernelError("coordinate_transformation_mode '\(name)' is not supported")
            }
            self.coordinates = coordinates
            let nearestName = try context.string("nearest_mode", default: "round_prefer_floor")
            guard let nearest = ResizeTaps.NearestMode(rawValue: nearestName), nearest != .simple else {
                throw KernelError("nearest_mode '\(nearestName)' is not one of round_prefer_floor, round_prefer_ceil, floor, ceil")
            }
            self.nearest = nearest
        }
        cubicA = Double(try context.float("cubic_coeff_a", default: -0.75))
        excludeOutside = try context.int("exclude_outside", default: 0) != 0
        extrapolation = try context.float("extrapolation_value", default: 0)
        antialias = try context.int("antialias", default: 0) != 0
        guard !(antialias && mode == .nearest) else { throw KernelError("antialias is not defined for mode 'nearest'") }
        axes = try context.ints("axes")
        keepAspect = try context.string("keep_aspect_ratio_policy", default: "stretch")
        guard ["stretch", "not_larger", "not_smaller"].contains(keepAspect) else {
            throw KernelError("keep_aspect_ratio_policy '\(keepAspect)' is not one of stretch, not_larger, not_smaller")
        }
    }

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        let x = try ShapeSupport.input(inputs, 0, "X")
        guard x.dataType == .float32 else { throw KernelError("Resize supports float32 only, X is \(x.dataType)") }
        if let problem = x.sizeProblem { throw KernelError("X: \(problem)") }
        let rank = x.rank
        let axes = try ShapeSupport.normalizedAxes(self.axes ?? Array(0..<rank), rank: rank)

        var roiValues: [Double] = [], scaleValues: [Double] = [], sizeValues: [Int] = []
        if opset < 11 {
            scaleValues = try ShapeSupport.doubles(try ShapeSupport.input(inputs, 1, "scales"), "scales")
        } else {
            if let roi = ShapeSupport.optionalInput(inputs, 1) { roiValues = try ShapeSupport.doubles(roi, "roi") }
            if let scales = ShapeSupport.optionalInput(inputs, 2) { scaleValues = try ShapeSupport.doubles(scales, "scales") }
            if let sizes = ShapeSupport.optionalInput(inputs, 3) { sizeValues = try ShapeSupport.ints(sizes, "sizes") }
        }

        // Per-axis scale and output size (axes not listed keep scale 1).
        var scales = [Double](repeating: 1, count: rank)
        var outputShape = x.shape
        if !sizeValues.isEmpty {
            guard scaleValues.isEmpty else { throw KernelError("only one of 'scales' and 'sizes' may be given") }
            guard sizeValues.count == axes.count else {
                throw KernelError("sizes has \(sizeValues.count) values for \(axes.count) axes (X shape \(x.shape))")
            }
            guard sizeValues.allSatisfy({ $0 >= 0 }) else { throw KernelError("sizes \(sizeValues) has a negative size") }
            for (index, axis) in axes.enumerated() {
                scales[axis] = Double(sizeValues[index]) / Double(x.shape[axis])
                outputShape[axis] = sizeValues[index]
            }
            if keepAspect != "stretch" {
                let chosen = axes.map { scales[$0] }
                let scale = keepAspect == "not_larger" ? chosen.min()! : chosen.max()!
                for axis in axes {
                    scales[axis] = scale
                    outputShape[axis] = Int(scale * Double(x.shape[axis]) + 0.5)
                }
            }
        } else {
            guard scaleValues.count == axes.count else {
                throw KernelError("scales has \(scaleValues.count) values for \(axes.count) axes (X shape \(x.shape)); give scales or sizes")
            }
            guard scaleValues.allSatisfy({ $0 > 0 && $0.isFinite }) else { throw KernelError("scales \(scaleValues) must be positive") }
            for (index, axis) in axes.enumerated() {
                scales[axis] = scaleValues[index]
                outputShape[axis] = Int((scaleValues[index] * Double(x.shape[axis])).rounded(.down))
            }
        }
        var roi = [(start: Double, end: Double)](repeating: (0, 1), count: rank)
        if coordinates == .tfCropAndResize {
            guard roiValues.count == 2 * axes.count else {
                throw KernelError("tf_crop_and_resize needs roi with \(2 * axes.count) values, has \(roiValues.count)")
            }
            for (index, axis) in axes.enumerated() { roi[axis] = (roiValues[index], roiValues[index + axes.count]) }
        }

        // The axes that actually change, each with its taps.
        var passes: [(axis: Int, taps: ResizeTaps)] = []
        for axis in axes {
            let unchanged = abs(scales[axis] - 1) <= 1e-9 && outputShape[axis] == x.shape[axis]
                && (coordinates != .tfCropAndResize || (abs(roi[axis].start) <= 1e-9 && abs(roi[axis].end - 1) <= 1e-9))
            if unchanged { continue }
            let taps = ResizeTaps(
                inputLength: x.shape[axis], outputLength: outputShape[axis], scale: scales[axis], roi: roi[axis],
                mode: mode, coordinates: coordinates, nearest: nearest, cubicA: cubicA,
                excludeOutside: excludeOutside, antialias: antialias)
            passes.append((axis, taps))
        }
        if passes.isEmpty { return [x] }
        // Separable passes commute (up to rounding), so order them for speed: shrinking axes
        // first, so later passes see less data; among equals the innermost first, since its
        // element-wise pass is the slowest per value and should run on the smallest tensor.
        passes.sort { ($0.taps.scale, -$0.axis) < ($1.taps.scale, -$1.axis) }
        if outputShape.contains(0) { return [context.allocateFloats(outputShape).tensor] }
        guard x.elementCount > 0 else { throw KernelError("cannot resize empty X of shape \(x.shape) to \(outputShape)") }

        // Mapped inputs may sit at unaligned offsets: read those through an aligned copy.
        var current = x
        if Int(bitPattern: ShapeSupport.base(x)) % MemoryLayout<Float>.alignment != 0 {
            let (copy, data) = context.allocate(.float32, x.shape)
            data.copyMemory(from: ShapeSupport.base(x), byteCount: x.elementCount * 4)
            current = copy
        }
        for pass in passes {
            var shape = current.shape
            shape[pass.axis] = pass.taps.outputLength
            let (next, data) = context.allocateFloats(shape)
            pass.taps.apply(
                source: ShapeSupport.base(current).assumingMemoryBound(to: Float.self), destination: data,
                outer: shape[..<pass.axis].reduce(1, *), inner: shape[(pass.axis + 1)...].reduce(1, *),
                extrapolation: extrapolation, context: context)
            current = next
        }
        return [current]
    }
}
