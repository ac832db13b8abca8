extension Graph {
    /// Node indices in an order where every node comes after the producers of its inputs.
    /// Ties keep file order (Kahn's algorithm over a FIFO), so a sorted graph stays as it is.
    /// Throws naming the nodes left on a cycle.
    public func topologicalOrder() throws(IRError) -> [Int] {
        var producer: [String: Int] = [:]
        for (index, node) in nodes.enumerated() {
            for output in node.outputs where !output.isEmpty && producer[output] == nil { producer[output] = index }
        }
        var pending = [Int](repeating: 0, count: nodes.count)
        var consumers = [[Int]](repeating: [], count: nodes.count)
        for (index, node) in nodes.enumerated() {
            for input in Set(node.inputs) where !input.isEmpty {
                if let source = producer[input] {
                    pending[index] += 1
                    consumers[source].append(index)
                }
            }
        }
        var queue = (0..<nodes.count).filter { pending[$0] == 0 }
        var order: [Int] = []
        order.reserveCapacity(nodes.count)
        var head = 0
        while head < queue.count {
            let index = queue[head]
            head += 1
            order.append(index)
            for consumer in consumers[index] {
                pending[consumer] -= 1
                if pending[consumer] == 0 { queue.append(consumer) }
            }
        }
        if order.count < nodes.count {
            let stuck = (0..<nodes.count).filter { pending[$0] > 0 }.map { nodes[$0].label }
            throw IRError.graph("cycle through nodes: \(stuck.joined(separator: ", "))")
        }
        return order
    }

    /// The same graph with nodes in topological order.
    public func topologicallySorted() throws(IRError) -> Graph {
        var sorted = self
        sorted.nodes = try topologicalOrder().map { nodes[$0] }
        return sorted
    }
}
