/// Shape arithmetic shared by kernels: numpy broadcasting, strides, axis normalization.
public enum Broadcasting {
    /// The numpy-broadcast shape of several shapes, or `nil` when they do not broadcast.
    public static func shape(_ shapes: [[Int]]) -> [Int]? {
        let rank = shapes.map(\.count).max() ?? 0
        var result = [Int](repeating: 1, count: rank)
        for shape in shapes {
            let offset = rank - shape.count
            for (index, size) in shape.enumerated() {
                let current = result[offset + index]
                if current == size || size == 1 { continue }
                if current == 1 { result[offset + index] = size } else { return nil }
            }
        }
        return result
    }

    /// Row-major strides in elements.
    public static func strides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var running = 1
        for index in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[index] = running
            running *= shape[index]
        }
        return strides
    }

    /// Strides of `shape` read as broadcast to `target` (0 where a dimension repeats).
    public static func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
        let own = strides(shape)
        let offset = target.count - shape.count
        return target.indices.map { index in
            let source = index - offset
            return source < 0 || shape[source] == 1 ? 0 : own[source]
        }
    }
}

/// Resolves a possibly negative axis against `rank`, throwing a message that names it.
public func normalizedAxis(_ axis: Int, rank: Int, name: String = "axis") throws -> Int {
    let resolved = axis < 0 ? axis + rank : axis
    guard resolved >= 0 && resolved < max(rank, 1) else {
        throw KernelError("\(name) \(axis) is out of range for rank \(rank)")
    }
    return resolved
}
