import NXIR

/// Where (opsets 9+): output[i] = condition[i] ? x[i] : y[i], the three inputs broadcast
/// together (numpy rules). condition is bool; x and y share any fixed-size type, moved as
/// raw elements of their byte width.
struct WhereKernel: Kernel {
    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        guard inputs.count == 3 else { throw KernelError("Where takes 3 inputs, got \(inputs.count)") }
        let condition = try ElementwiseSupport.input(inputs, 0, "Where")
        let x = try ElementwiseSupport.input(inputs, 1, "Where")
        let y = try ElementwiseSupport.input(inputs, 2, "Where")
        guard condition.dataType == .bool else { throw KernelError("Where condition must be bool, is \(condition.dataType)") }
        guard x.dataType == y.dataType else { throw KernelError("Where x and y must share one type: \(x.dataType) and \(y.dataType)") }
        guard let plan = BinaryBroadcast([condition.shape, x.shape, y.shape]) else {
            throw KernelError("Where: shapes \(condition.shape), \(x.shape) and \(y.shape) do not broadcast")
        }
        switch x.dataType.byteSize {
        case 1: return [select(UInt8.self, plan, condition, x, y, context)]
        case 2: return [select(UInt16.self, plan, condition, x, y, context)]
        case 4: return [select(UInt32.self, plan, condition, x, y, context)]
        case 8: return [select(UInt64.self, plan, condition, x, y, context)]
        default: throw KernelError("Where does not support \(x.dataType)")
        }
    }

    private func select<T>(
        _: T.Type, _ plan: BinaryBroadcast, _ condition: Tensor, _ x: Tensor, _ y: Tensor, _ context: ExecutionContext
    ) -> Tensor {
        let (tensor, raw) = context.allocate(x.dataType, plan.shape)
        guard plan.count > 0 else { return tensor }
        let (condition, x, y) = (ElementwiseSupport.aligned(condition), ElementwiseSupport.aligned(x), ElementwiseSupport.aligned(y))
        let c = ElementwiseSupport.pointer(condition, as: UInt8.self)
        let px = ElementwiseSupport.pointer(x, as: T.self)
        let py = ElementwiseSupport.pointer(y, as: T.self)
        let output = raw.bindMemory(to: T.self, capacity: plan.count)
        let steps = plan.steps
        withExtendedLifetime((condition, x, y)) {
            plan.run(context: context) { offsets, start, length in
                let (c, px, py, out) = (c + offsets[0], px + offsets[1], py + offsets[2], output + start)
                if steps == SIMD4(1, 1, 1, 0) {
                    for i in 0..<length { out[i] = c[i] != 0 ? px[i] : py[i] }
                } else {
                    let (sc, sx, sy) = (steps[0], steps[1], steps[2])
                    for i in 0..<length { out[i] = c[i * sc] != 0 ? px[i * sx] : py[i * sy] }
                }
            }
        }
        return tensor
    }
}
