import Testing
@testable import NXIR

/// A valid two-node graph that each test breaks in one way.
private func validGraph() -> Graph {
    Graph(
        name: "g",
        nodes: [
            Node(name: "conv", opType: "Conv", inputs: ["x", "w"], outputs: ["y"], attributes: ["strides": .ints([1, 1])]),
            Node(name: "relu", opType: "Relu", inputs: ["y"], outputs: ["z"]),
        ],
        inputs: [ValueInfo(name: "x", elementType: .float32, shape: [1, 1, 4, 4])],
        outputs: [ValueInfo(name: "z", elementType: .float32)],
        initializers: ["w": Tensor(shape: [1, 1, 3, 3], scalars: [Float](repeating: 1, count: 9))]
    )
}

@Suite struct ValidationTests {
    @Test func validGraphHasNoIssues() {
        #expect(validGraph().validate().isEmpty)
        #expect(Model(graph: validGraph()).validate().isEmpty)
    }

    @Test func undefinedInputNamesNodeAndValue() throws {
        var graph = validGraph()
        graph.nodes[1].inputs = ["missing"]
        let issues = graph.validate()
        let issue = try #require(issues.first { $0.kind == .undefinedInput })
        #expect(issue.subject == "relu")
        #expect(issue.message.contains("'relu'") && issue.message.contains("'missing'"))
    }

    @Test func valueDefinedTwice() throws {
        var graph = validGraph()
        graph.nodes[1].outputs = ["y"]
        graph.outputs = [ValueInfo(name: "y")]
        let issue = try #require(graph.validate().first { $0.kind == .duplicateDefinition })
        #expect(issue.subject == "y")
        #expect(issue.message.contains("'conv'") && issue.message.contains("'relu'"))
    }

    @Test func nodeOutputShadowingInitializerIsReported() throws {
        var graph = validGraph()
        graph.nodes[1].outputs = ["w"]
        graph.outputs = [ValueInfo(name: "w")]
        let issue = try #require(graph.validate().first { $0.kind == .duplicateDefinition })
        #expect(issue.message.contains("initializer"))
    }

    @Test func cycleNamesItsNodes() throws {
        var graph = validGraph()
        graph.nodes[0].inputs = ["z", "w"]
        let issue = try #require(graph.validate().first { $0.kind == .cycle })
        #expect(issue.message.contains("conv") && issue.message.contains("relu"))
        #expect(throws: IRError.self) { try graph.topologicalOrder() }
    }

    @Test func duplicateNodeName() throws {
        var graph = validGraph()
        graph.nodes[1].name = "conv"
        let issue = try #require(graph.validate().first { $0.kind == .duplicateNodeName })
        #expect(issue.subject == "conv")
    }

    @Test func attributeOfWrongKind() throws {
        var graph = validGraph()
        graph.nodes[0].attributes["strides"] = .float(1)
        graph.nodes[0].attributes["group"] = .ints([1])
        let issues = graph.validate().filter { $0.kind == .attributeKind }
        #expect(issues.count == 2)
        #expect(issues.contains { $0.message.contains("'strides' should be INTS, is FLOAT") })
        #expect(issues.allSatisfy { $0.subject == "conv" })
    }

    @Test func initializerWhoseBytesDisagreeWithDims() throws {
        var graph = validGraph()
        graph.initializers["w"] = Tensor(dataType: .float32, shape: [1, 1, 3, 3], bytes: [UInt8](repeating: 0, count: 20))
        let issue = try #require(graph.validate().first { $0.kind == .initializerSize })
        #expect(issue.subject == "w")
        #expect(issue.message.contains("36 bytes") && issue.message.contains("20"))
    }

    @Test func undefinedGraphOutput() throws {
        var graph = validGraph()
        graph.outputs.append(ValueInfo(name: "nowhere"))
        let issue = try #require(graph.validate().first { $0.kind == .undefinedOutput })
        #expect(issue.subject == "nowhere")
    }

    @Test func inputWithoutType() throws {
        var graph = validGraph()
        graph.inputs[0].elementType = nil
        let issue = try #require(graph.validate().first { $0.kind == .missingType })
        #expect(issue.subject == "x")
    }

    @Test func emptyOpType() throws {
        var graph = validGraph()
        graph.nodes[1].opType = ""
        #expect(graph.validate().contains { $0.kind == .emptyOpType })
    }

    @Test func domainWithoutOpsetImport() throws {
        var graph = validGraph()
        graph.nodes[1].domain = "com.example"
        let issue = try #require(Model(graph: graph).validate().first { $0.kind == .missingOpset })
        #expect(issue.message.contains("com.example") && issue.subject == "relu")
    }

    @Test func reportsEveryProblemAtOnce() {
        var graph = validGraph()
        graph.nodes[1].inputs = ["missing"]
        graph.nodes[0].attributes["group"] = .string("x")
        graph.outputs.append(ValueInfo(name: "nowhere"))
        let kinds = Set(graph.validate().map(\.kind))
        #expect(kinds == [.undefinedInput, .attributeKind, .undefinedOutput])
    }

    @Test func everyKindIsCoveredAbove() {
        // Keeps this file honest when a kind is added.
        #expect(ValidationIssue.Kind.allCases.count == 10)
    }
}
