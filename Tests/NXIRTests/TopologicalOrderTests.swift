import Testing
@testable import NXIR

@Suite struct TopologicalOrderTests {
    @Test func sortsProducersBeforeConsumersAndKeepsFileOrderOtherwise() throws {
        let graph = Graph(nodes: [
            Node(name: "c", opType: "Add", inputs: ["a_out", "b_out"], outputs: ["c_out"]),
            Node(name: "a", opType: "Relu", inputs: ["x"], outputs: ["a_out"]),
            Node(name: "b", opType: "Relu", inputs: ["x"], outputs: ["b_out"]),
            Node(name: "d", opType: "Relu", inputs: ["x"], outputs: ["d_out"]),
        ])
        let order = try graph.topologicalOrder().map { graph.nodes[$0].name }
        #expect(order == ["a", "b", "d", "c"])
    }

    @Test func nodeUsingSameInputTwice() throws {
        let graph = Graph(nodes: [
            Node(name: "m", opType: "Mul", inputs: ["r", "r"], outputs: ["y"]),
            Node(name: "r", opType: "Relu", inputs: ["x"], outputs: ["r"]),
        ])
        #expect(try graph.topologicallySorted().nodes.map(\.name) == ["r", "m"])
    }
}
