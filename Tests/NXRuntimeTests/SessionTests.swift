import Foundation
import Testing
import NXIR
@testable import NXRuntime

@Suite struct SessionTests {
    /// y = Relu(x + b), x: [batch, 4] float32.
    private func smallModel() -> Model {
        let b = GraphBuilder(opset: 17)
        let x = b.input("x", shape: ["batch", 4])
        b.output(b.relu(b.add(x, b.initializer("b", Tensor(shape: [4], scalars: [Float(-1), 0, 1, 2])))), name: "y")
        return b.model()
    }

    @Test func runsAndBroadcasts() throws {
        let session = try Session(model: smallModel())
        let y = try session.run(["x": Tensor(shape: [2, 4], scalars: [Float(0), 0, 0, 0, 1, -1, -2, 3])])["y"]!
        #expect(y.shape == [2, 4])
        #expect(try y.scalars(as: Float.self) == [0, 0, 1, 2, 0, 0, 0, 5])
    }

    @Test func inputErrorsNameTheInput() throws {
        let session = try Session(model: smallModel())
        func message(_ feeds: [String: Tensor]) -> String {
            do { _ = try session.run(feeds); return "no error" } catch { return "\(error)" }
        }
        #expect(message([:]).contains("input 'x': missing"))
        #expect(message(["x": Tensor(shape: [1, 4], scalars: [Int64](repeating: 0, count: 4))]).contains("expected element type float32, given int64"))
        #expect(message(["x": Tensor(shape: [1, 5], scalars: [Float](repeating: 0, count: 5))]).contains("expected shape [batch, 4], given [1, 5]"))
        #expect(message(["x": Tensor(shape: [4], scalars: [Float](repeating: 0, count: 4))]).contains("rank 2"))
        #expect(message(["x": Tensor(shape: [1, 4], scalars: [Float](repeating: 0, count: 4)), "z": Tensor(scalar: Float(0))]).contains("input 'z': the model has no such input"))
    }

    @Test func unsupportedOperatorsAreAllListedAtLoad() throws {
        let graph = Graph(
            nodes: [
                Node(name: "a", opType: "FancyOp", inputs: ["x"], outputs: ["t"]),
                Node(name: "b", opType: "Relu", inputs: ["t"], outputs: ["u"]),
                Node(name: "c", opType: "OtherOp", inputs: ["u"], outputs: ["y"]),
            ],
            inputs: [ValueInfo(name: "x", elementType: .float32, shape: [1])], outputs: [ValueInfo(name: "y")])
        do {
            _ = try Session(model: Model(graph: graph), options: SessionOptions(optimize: false))
            Issue.record("loaded a model with unknown ops")
        } catch let RuntimeError.unsupportedOperators(list) {
            #expect(list.map(\.node) == ["a", "c"])
            #expect(list.map(\.opType) == ["FancyOp", "OtherOp"])
            #expect(list.allSatisfy { $0.opset == 17 })
        }
    }

    /// A chain of 40 small convolutions, so that a 2-thread build interleaves its nodes.
    private func convChain(badGroupAt bad: Set<Int> = []) -> Model {
        let b = GraphBuilder(opset: 17)
        var x = b.input("x", shape: [1, 4, 3, 3])
        for layer in 0..<40 {
            let weight = b.initializer("w\(layer)", Tensor(shape: [4, 4, 1, 1], scalars: (0..<16).map { Float(($0 * 7 + layer) % 5) / 8 - 0.25 }))
            x = b.conv(x, weight, bias: b.initializer("b\(layer)", Tensor(shape: [4], scalars: [Float(layer % 3) / 10, 0, -0.1, 0.2])),
                       group: bad.contains(layer) ? 0 : 1)
        }
        b.output(x, name: "y")
        return b.model()
    }

    /// Kernels build on the session's threads: the same kernels, the same packed-only
    /// weights dropped, and the same outputs as a one-thread build.
    @Test func buildsOnSeveralThreadsAsOnOne() throws {
        let x = Tensor(shape: [1, 4, 3, 3], scalars: (0..<36).map { Float($0 % 11) / 5 - 1 })
        let one = try Session(model: convChain(), options: SessionOptions(threads: 1, optimize: false))
        let expected = try one.run(["x": x])["y"]!.scalars(as: Float.self)
        for threads in [2, 3] {
            let session = try Session(model: convChain(), options: SessionOptions(threads: threads, optimize: false))
            #expect(try session.run(["x": x])["y"]!.scalars(as: Float.self) == expected)
            #expect(Set(session.model.graph.initializers.keys) == Set(one.model.graph.initializers.keys))
        }
        #expect(!one.model.graph.initializers.keys.contains("w0"), "a packed weight stayed")
    }

    /// However the threads interleave, the error names the first node that failed to build.
    @Test func buildErrorNamesTheFirstFailingNode() throws {
        let model = convChain(badGroupAt: [9, 23])
        let failing = model.graph.nodes.filter { $0.attributes["group"] != nil }.map(\.label)
        for _ in 0..<10 {
            #expect { try Session(model: model, options: SessionOptions(threads: 2, optimize: false)) } throws: { error in
                guard case RuntimeError.node(let name, let opType, let message) = error else { return false }
                return name == failing[0] && opType == "Conv" && message.contains("group 0")
            }
        }
    }

    /// FusedConv's `weight_transposed` is for ungrouped 1x1 convolutions with a constant
    /// [C_in, C_out] weight; anything else is refused at load, naming the node.
    @Test func transposedWeightOutsideItsContractIsRefused() throws {
        func model(group: Int, weightShape: [Int]) -> Model {
            let b = GraphBuilder(opset: 17)
            let x = b.input("x", shape: Shape(fixed: [1, 4, 3, 3]))
            let w = b.initializer("w", Tensor(shape: weightShape, scalars: [Float](repeating: 0.5, count: weightShape.reduce(1, *))))
            let y = b.conv(x, w, group: group)
            var model = b.model()
            let index = model.graph.nodes.firstIndex { $0.opType == "Conv" }!
            model.graph.nodes[index].opType = "FusedConv"
            model.graph.nodes[index].domain = nxDomain
            model.graph.nodes[index].attributes["weight_transposed"] = .int(1)
            model.opsetImports.append(OperatorSetID(domain: nxDomain, version: 1))
            model.graph.outputs = [ValueInfo(name: y.name, elementType: .float32)]
            return model
        }
        for (group, shape) in [(2, [2, 4]), (1, [4, 4, 1, 1])] {
            #expect { try Session(model: model(group: group, weightShape: shape), options: SessionOptions(optimize: false)) } throws: { error in
                guard case RuntimeError.node(_, let opType, let message) = error else { return false }
                return opType == "FusedConv" && message.contains("transposed weight")
            }
        }
    }

    @Test func invalidModelIsRefusedWithEveryIssue() throws {
        var model = smallModel()
        model.graph.nodes[1].inputs = ["nowhere"]
        model.graph.outputs.append(ValueInfo(name: "ghost"))
        #expect { try Session(model: model) } throws: { error in
            guard case RuntimeError.invalidModel(let issues) = error else { return false }
            return issues.count == 2 && issues.contains { $0.contains("nowhere") } && issues.contains { $0.contains("ghost") }
        }
    }

    @Test func steadyStateRunsAllocateNothing() throws {
        let b = GraphBuilder(opset: 17)
        var x = b.input("x", shape: [1, 64])
        for _ in 0..<6 { x = b.relu(b.add(x, b.constant(scalar: 0.5))) }
        b.output(x, name: "y")
        let session = try Session(model: b.model(), options: SessionOptions(optimize: false))
        let feeds = ["x": Tensor(shape: [1, 64], scalars: [Float](repeating: 1, count: 64))]
        // Warm-up is two runs: the first (recording) run's buffers, its output among them,
        // come from a recording heap, so the first planned run takes its output from the
        // pool afresh.
        _ = try session.run(feeds)
        _ = try session.run(feeds)
        let afterWarmup = session.bufferAllocations
        #expect(afterWarmup > 0)
        for _ in 0..<5 { _ = try session.run(feeds) }
        #expect(session.bufferAllocations == afterWarmup)
        // Lifetimes are planned: a chain of 12 nodes needs far fewer than 12 buffers.
        #expect(afterWarmup <= 3)
    }

    @Test func concurrentRunsAreSafeAndCorrect() async throws {
        let session = try Session(model: smallModel(), options: SessionOptions(threads: 2))
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for task in 0..<16 {
                group.addTask {
                    let value = Float(task)
                    for _ in 0..<50 {
                        let y = try session.run(["x": Tensor(shape: [1, 4], scalars: [value, value, value, value])])["y"]!
                        guard try y.scalars(as: Float.self) == [max(value - 1, 0), value, value + 1, value + 2] else { return false }
                    }
                    return true
                }
            }
            for try await ok in group { #expect(ok) }
        }
    }
}
