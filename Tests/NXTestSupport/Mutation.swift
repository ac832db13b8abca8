/// Random damage to a valid file for the fuzz tests: the kinds of corruption real files
/// suffer (flipped bits, lost tails, spliced bytes, overwritten numbers).
public enum Mutation {
    public static func apply(to bytes: inout [UInt8], using generator: inout some RandomNumberGenerator) {
        guard !bytes.isEmpty else { return }
        switch Int.random(in: 0..<5, using: &generator) {
        case 0:
            for _ in 0..<Int.random(in: 1...8, using: &generator) {
                let index = Int.random(in: 0..<bytes.count, using: &generator)
                bytes[index] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &generator)
            }
        case 1:
            bytes.removeLast(Int.random(in: 1...bytes.count, using: &generator))
        case 2:
            let index = Int.random(in: 0...bytes.count, using: &generator)
            let inserted = (0..<Int.random(in: 1...16, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            bytes.insert(contentsOf: inserted, at: index)
        case 3:
            let index = Int.random(in: 0..<bytes.count, using: &generator)
            bytes[index] = [0x00, 0xFF, 0x7F, 0x80, 0x01].randomElement(using: &generator)!
        default:
            let start = Int.random(in: 0..<bytes.count, using: &generator)
            let end = min(bytes.count, start + Int.random(in: 1...64, using: &generator))
            bytes.removeSubrange(start..<end)
        }
    }
}
