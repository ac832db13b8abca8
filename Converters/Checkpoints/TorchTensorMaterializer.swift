import NXIR

/// Turns a `TorchTensorRecord` into a dense row-major `Tensor`: a zero-copy view of the
/// storage when it is float32 (or any non-floating type) and contiguous, otherwise a copy
/// that gathers the strided elements; float16, bfloat16 and float64 become float32.
struct TorchTensorMaterializer {
    /// Offset and size of a storage's bytes in the archive, or `nil` when it has no entry.
    let storageRange: (_ key: String) -> (offset: Int, count: Int)?
    /// A view of `count` archive bytes at `offset` (a mapping, or a copy of an in-memory buffer).
    let view: (_ offset: Int, _ count: Int) -> TensorStorage
    let source: String

    func tensor(_ record: TorchTensorRecord, name: String) throws(CheckpointError) -> Tensor {
        func fail(_ message: String) -> CheckpointError { .tensor(file: source, name: name, message: message) }
        let storage = record.storage
        guard let elementSize = storage.dataType.byteSize else { throw fail("storage of \(storage.dataType) is not supported") }
        guard let range = storageRange(storage.key) else {
            throw fail("storage '\(storage.key)' has no data/\(storage.key) entry in the archive")
        }
        let (storageBytes, overflow) = storage.count.multipliedReportingOverflow(by: elementSize)
        guard !overflow, storageBytes == range.count else {
            throw fail("storage '\(storage.key)' declares \(storage.count) \(storage.dataType) elements but its entry holds \(range.count) bytes")
        }
        guard record.offset >= 0, !record.shape.contains(where: { $0 < 0 }), !record.strides.contains(where: { $0 < 0 }) else {
            throw fail("negative offset, size or stride (offset \(record.offset), size \(record.shape), stride \(record.strides))")
        }

        // Element count and the last element the view touches, overflow-checked.
        var count = 1
        var last = record.offset
        for (size, stride) in zip(record.shape, record.strides) {
            let (product, countOverflow) = count.multipliedReportingOverflow(by: size)
            guard !countOverflow else { throw fail("size \(record.shape) is too large") }
            count = product
            if size > 0 {
                let (reach, reachOverflow) = (size - 1).multipliedReportingOverflow(by: stride)
                let (sum, sumOverflow) = last.addingReportingOverflow(reach)
                guard !reachOverflow, !sumOverflow else { throw fail("stride \(record.strides) is too large") }
                last = sum
            }
        }
        if count == 0 { return Tensor(dataType: outputType(storage.dataType), shape: record.shape, bytes: []) }
        guard last < storage.count else {
            throw fail("view (offset \(record.offset), size \(record.shape), stride \(record.strides)) reaches element \(last) of a storage of \(storage.count)")
        }
        // A view can only hold more elements than its storage by repeating them (stride 0,
        // from expand()); refusing those bounds every allocation by the file's size.
        guard count <= storage.count else {
            throw fail("view of \(count) elements over a storage of \(storage.count): broadcast (stride 0) views are not supported")
        }

        let base = range.offset + record.offset * elementSize
        let dense: Tensor
        if isContiguous(shape: record.shape, strides: record.strides) {
            dense = Tensor(dataType: storage.dataType, shape: record.shape, storage: view(base, count * elementSize))
        } else {
            let source = view(range.offset, range.count)
            dense = Tensor(
                dataType: storage.dataType, shape: record.shape,
                storage: TensorStorage(byteCount: count * elementSize) { destination in
                    gather(from: source.bytes, offset: record.offset, shape: record.shape, strides: record.strides, elementSize: elementSize, into: destination)
                })
        }
        return try widened(dense, fail: fail)
    }

    private func outputType(_ type: DataType) -> DataType { type.isFloatingPoint ? .float32 : type }

    /// float16, bfloat16 and float64 as float32; other types unchanged.
    private func widened(_ tensor: Tensor, fail: (String) -> CheckpointError) throws(CheckpointError) -> Tensor {
        guard tensor.dataType.isFloatingPoint, tensor.dataType != .float32 else { return tensor }
        do {
            return Tensor(shape: tensor.shape, scalars: try tensor.floatValues())
        } catch {
            throw fail("cannot convert \(tensor.dataType) to float32: \(error)")
        }
    }
}

/// Row-major contiguity, ignoring the strides of size-1 dimensions (torch may give them any value).
func isContiguous(shape: [Int], strides: [Int]) -> Bool {
    var expected = 1
    for (size, stride) in zip(shape, strides).reversed() where size != 1 {
        if stride != expected { return false }
        expected *= size
    }
    return true
}

/// Copies the elements of a strided view into `destination`, row-major. The caller has
/// checked that every index lies inside `source`.
private func gather(
    from source: UnsafeRawBufferPointer, offset: Int, shape: [Int], strides: [Int], elementSize: Int,
    into destination: UnsafeMutableRawBufferPointer
) {
    guard let from = source.baseAddress, let to = destination.baseAddress else { return }
    var index = [Int](repeating: 0, count: shape.count)
    var element = offset
    var written = 0
    while written < destination.count {
        (to + written).copyMemory(from: from + element * elementSize, byteCount: elementSize)
        written += elementSize
        // Odometer: advance the last dimension, carrying into earlier ones.
        var axis = shape.count - 1
        while axis >= 0 {
            index[axis] += 1
            element += strides[axis]
            if index[axis] < shape[axis] { break }
            element -= strides[axis] * shape[axis]
            index[axis] = 0
            axis -= 1
        }
    }
}
