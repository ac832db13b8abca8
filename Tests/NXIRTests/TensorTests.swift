import Testing
@testable import NXIR

@Suite struct TensorTests {
    @Test func scalarsRoundTrip() throws {
        let tensor = Tensor(shape: [2, 3], scalars: [Float]([1, 2, 3, 4, 5, 6]))
        #expect(tensor.byteCount == 24 && tensor.sizeProblem == nil)
        #expect(try tensor.scalars(as: Float.self) == [1, 2, 3, 4, 5, 6])
        #expect(throws: IRError.self) { try tensor.scalars(as: Int64.self) }
    }

    @Test func floatValuesWidenHalfAndBFloat() throws {
        let half = Tensor(shape: [3], scalars: [Float16(0.5), Float16(-2), Float16(1024)])
        #expect(try half.floatValues() == [0.5, -2, 1024])
        let brain = Tensor(shape: [2], scalars: [BFloat16(1.5), BFloat16(-3)])
        #expect(try brain.floatValues() == [1.5, -3])
        #expect(try Tensor(shape: [2], scalars: [Int64(7), -1]).intValues() == [7, -1])
    }

    @Test func bfloat16RoundsToNearestEven() {
        // 1 + 2^-8 lies exactly between two bfloat16 values: ties go to the even one (1.0).
        #expect(BFloat16(Float(1) + Float(1) / 256).floatValue == 1)
        #expect(BFloat16(Float(1) + Float(3) / 256).floatValue == Float(1) + Float(1) / 64)
        #expect(BFloat16(Float.nan).floatValue.isNaN)
    }

    @Test func sizeProblemIsReported() {
        let tensor = Tensor(dataType: .int64, shape: [3], bytes: [UInt8](repeating: 0, count: 16))
        #expect(tensor.sizeProblem?.contains("24 bytes") == true)
        #expect(throws: IRError.self) { try tensor.intValues() }
    }

    @Test func equalityComparesBytes() {
        let a = Tensor(shape: [2], scalars: [Float(1), 2])
        #expect(a == Tensor(shape: [2], scalars: [Float(1), 2]))
        #expect(a != Tensor(shape: [2], scalars: [Float(1), 3]))
        #expect(a != a.reshaped([1, 2]))
    }
}
