import Glibc
import NXIR
import NXModels

/// A parameter source for counting: every tensor it hands out is a float32 view of one shared,
/// never-written anonymous mapping (zero pages the kernel only backs when read), so building
/// XLarge (730 M parameters) costs no parameter memory while shapes, byte counts, validation
/// and shape inference all see correctly sized tensors. Records every name and shape asked for.
struct ShapeOnlyParameters: ParameterSource {
    struct TooLarge: Error, CustomStringConvertible {
        let description: String
    }

    /// 1 GiB of address space: more than the largest single tensor (XLarge's tp.up3, 629 MB).
    // Never written after creation (PROT_READ), so sharing it across test threads is safe.
    nonisolated(unsafe) private static let region: UnsafeMutableRawBufferPointer? = {
        let size = 1 << 30
        let address = mmap(nil, size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
        guard let address, address != MAP_FAILED else { return nil }
        return UnsafeMutableRawBufferPointer(start: address, count: size)
    }()

    private(set) var requested: [(name: String, shape: [Int])] = []

    mutating func parameter(_ name: String, shape: [Int], initializer: ParameterInit) throws -> Tensor {
        requested.append((name, shape))
        let byteCount = elementCount(shape) * MemoryLayout<Float>.stride
        guard let region = Self.region, byteCount <= region.count else {
            throw TooLarge(description: "\(name): \(byteCount) bytes exceed the shared zero region")
        }
        // The mapping outlives every test; nothing is given back.
        let storage = TensorStorage(lending: region, count: byteCount, release: { _ in })
        return Tensor(dataType: .float32, shape: shape, storage: storage)
    }

    /// Trainable parameters as torch counts them: BatchNorm running statistics are buffers.
    func trainableCount(prefix: String = "") -> Int {
        requested.filter { $0.name.hasPrefix(prefix) && !$0.name.hasSuffix(".running_mean") && !$0.name.hasSuffix(".running_var") }
            .reduce(0) { $0 + elementCount($1.shape) }
    }
}
