/// `count` reproducible floats in [-scale, scale) from a linear congruential generator (the
/// optimizer tests' weights and inputs: any seed gives the same values everywhere).
func seededFloats(_ count: Int, seed: UInt64, scale: Float = 1) -> [Float] {
    var state = seed
    return (0..<count).map { _ in
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return (Float(state >> 40) / Float(1 << 23) - 1) * scale
    }
}
