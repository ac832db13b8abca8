/// One problem found in a graph or model, naming the node or tensor it concerns.
public struct ValidationIssue: Equatable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable, CaseIterable {
        case undefinedInput, duplicateDefinition, cycle, duplicateNodeName, attributeKind
        case initializerSize, undefinedOutput, missingType, missingOpset, emptyOpType
    }

    public let kind: Kind
    /// The node label or value name the issue is about.
    public let subject: String
    public let message: String

    public var description: String { message }
}

extension Graph {
    /// Every problem found, not just the first, so a user fixes a file in one pass.
    public func validate() -> [ValidationIssue] {
        var issues: [ValidationIssue] = []
        func report(_ kind: ValidationIssue.Kind, _ subject: String, _ message: String) {
            issues.append(ValidationIssue(kind: kind, subject: subject, message: message))
        }

        var seenNodeNames = Set<String>()
        for node in nodes where !node.name.isEmpty {
            if !seenNodeNames.insert(node.name).inserted {
                report(.duplicateNodeName, node.name, "node '\(node.name)': name used by more than one node")
            }
        }

        // Where each value comes from, for messages about values defined twice.
        var definedBy: [String: String] = [:]
        func define(_ value: String, by origin: String) {
            if let first = definedBy[value] {
                report(.duplicateDefinition, value, "value '\(value)' is defined by \(first) and again by \(origin)")
            } else {
                definedBy[value] = origin
            }
        }
        for input in inputs { define(input.name, by: "graph input") }
        for name in initializers.keys.sorted() where definedBy[name] != "graph input" {
            define(name, by: "initializer")
        }
        for node in nodes {
            for output in node.outputs where !output.isEmpty { define(output, by: "node '\(node.label)'") }
        }

        for node in nodes {
            if node.opType.isEmpty { report(.emptyOpType, node.label, "node '\(node.label)': empty op type") }
            for input in node.inputs where !input.isEmpty && definedBy[input] == nil {
                report(
                    .undefinedInput, node.label,
                    "node '\(node.label)' (\(node.opType)): input '\(input)' is not a graph input, initializer or node output")
            }
            for (attribute, value) in node.attributes.sorted(by: { $0.key < $1.key }) {
                guard let expected = AttributeSchema.expectedKind(opType: node.opType, domain: node.domain, attribute: attribute),
                    expected != value.kind
                else { continue }
                // ONNX accepts a single INT where INTS is declared only from sloppy writers; still report it.
                report(
                    .attributeKind, node.label,
                    "node '\(node.label)' (\(node.opType)): attribute '\(attribute)' should be \(expected.rawValue), is \(value.kind.rawValue)")
            }
        }

        for output in outputs where definedBy[output.name] == nil {
            report(.undefinedOutput, output.name, "graph output '\(output.name)' is never produced")
        }
        for input in inputs where input.elementType == nil && initializers[input.name] == nil {
            report(.missingType, input.name, "graph input '\(input.name)' has no element type")
        }
        for (name, tensor) in initializers.sorted(by: { $0.key < $1.key }) {
            if let problem = tensor.sizeProblem {
                report(.initializerSize, name, "initializer '\(name)': \(problem)")
            }
        }
        do {
            _ = try topologicalOrder()
        } catch {
            report(.cycle, name, "graph '\(name)': \(error.description)")
        }
        return issues
    }
}

extension Model {
    /// Graph issues plus model-level ones: every node's domain must be imported.
    public func validate() -> [ValidationIssue] {
        var issues = graph.validate()
        var reported = Set<String>()
        for node in graph.nodes where opsetVersion(for: node.domain) == nil {
            let domain = node.domain.isEmpty ? "ai.onnx" : node.domain
            if reported.insert(domain).inserted {
                issues.append(ValidationIssue(
                    kind: .missingOpset, subject: node.label,
                    message: "node '\(node.label)' (\(node.opType)): domain '\(domain)' is not in the model's opset imports"))
            }
        }
        return issues
    }
}
