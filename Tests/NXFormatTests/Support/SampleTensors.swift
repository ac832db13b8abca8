import NXIR

/// Tensors covering every element type, with shapes from scalars to empty, and bytes that
/// differ per tensor so a mix-up of offsets cannot go unnoticed.
enum SampleTensors {
    /// Element bytes: a pattern unique to `seed`; bools stay 0/1, as numpy and torch expect.
    static func bytes(count: Int, seed: Int, bool: Bool = false) -> [UInt8] {
        (0..<count).map { index in
            bool ? UInt8((index + seed) % 2) : UInt8(truncatingIfNeeded: index &* 31 &+ seed &* 7 &+ 1)
        }
    }

    static func tensor(_ dataType: DataType, _ shape: [Int], seed: Int) -> Tensor {
        let count = elementCount(shape) * dataType.byteSize!
        return Tensor(dataType: dataType, shape: shape, bytes: bytes(count: count, seed: seed, bool: dataType == .bool))
    }

    /// Shapes used in turn for the element types.
    static let shapes: [[Int]] = [[2, 3], [5], [], [1, 2, 2], [0, 4], [3, 1], [7]]

    /// One tensor per numeric element type (all but strings), named after the type.
    static func everyType(except excluded: Set<DataType> = []) -> [(name: String, tensor: Tensor)] {
        DataType.allCases.filter { $0 != .string && !excluded.contains($0) }.enumerated().map { index, type in
            (name: "t_\(type)", tensor: tensor(type, shapes[index % shapes.count], seed: index))
        }
    }
}
