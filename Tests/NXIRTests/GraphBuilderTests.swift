import Testing
@testable import NXIR

@Suite struct GraphBuilderTests {
    @Test func buildsAValidScopedGraph() throws {
        let b = GraphBuilder(name: "tiny")
        let x = b.input("input", shape: ["batch", 3, 8, 8])
        let y = b.scoped("stem") {
            let w = b.initializer("0.weight", Tensor(shape: [4, 3, 2, 2], scalars: [Float](repeating: 0.1, count: 48)))
            let bias = b.initializer("0.bias", Tensor(shape: [4], scalars: [Float](repeating: 0, count: 4)))
            return b.relu(b.conv(x, w, bias: bias, strides: [2, 2]))
        }
        b.output(b.gelu(y), name: "features")
        let graph = b.build()
        #expect(graph.validate().isEmpty)
        #expect(graph.initializers.keys.contains("stem.0.weight"))
        #expect(graph.nodes.first?.name == "stem/Conv")
        #expect(graph.nodes.last?.outputs == ["features"])
        #expect(graph.outputs.map(\.name) == ["features"])
        // opset 17 has no Gelu: the erf form is written.
        #expect(graph.nodes.map(\.opType).contains("Erf"))
        #expect(!graph.nodes.map(\.opType).contains("Gelu"))
        // The GELU's scalars are Constant nodes, not parameters.
        #expect(graph.parameterCount == 52)
    }

    @Test func geluIsOneNodeFromOpset20() {
        let b = GraphBuilder(opset: 20)
        b.output(b.gelu(b.input("x", shape: [2])))
        #expect(b.build().nodes.map(\.opType) == ["Gelu"])
    }

    @Test func reduceMeanAxesFollowOpset() {
        for (opset, inputCount) in [(17, 1), (18, 2)] {
            let b = GraphBuilder(opset: opset)
            b.output(b.reduceMean(b.input("x", shape: [2, 3]), axes: [1]))
            #expect(b.build().nodes.first { $0.opType == "ReduceMean" }?.inputs.count == inputCount)
        }
    }

    @Test func namesStayUnique() {
        let b = GraphBuilder()
        let x = b.input("x", shape: [1])
        let names = (0..<3).map { _ in b.relu(x).name }
        #expect(Set(names).count == 3)
    }
}
