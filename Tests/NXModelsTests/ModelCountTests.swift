import NXIR
import NXModels
import Testing

/// Parameter and MAC counts of the Swift graphs: HistoNeXt against the PyTorch reference
/// (exactly) and the paper's table (within 3%), ConvNeXt against timm.
///
/// Where the exact numbers come from: `count(build(variant))` in
/// Converters/python/histonext_reference.py (torch.utils.flop_counter.FlopCounterMode ÷ 2 on the
/// meta device, timm 1.0.31, num_types 6), run once with /work/venv-torch/bin/python; the same
/// figures are in Spec/HISTONEXT.md §7 (micro: make_histonext_fixtures.py's manifest.json). The
/// ConvNeXt figures are FlopCounterMode ÷ 2 and sum(p.numel()) of
/// `timm.create_model("convnext_<v>")` on a 1x3x224x224 input.
///
/// The graphs are built with `ShapeOnlyParameters` (no parameter memory, so XLarge's 730 M are
/// cheap); parameters are counted from the shapes the builder asked for, MACs from the graph by
/// `Graph.multiplyAccumulates`, which never reads a weight.
@Suite struct ModelCountTests {
    /// One variant's reference counts (params, MACs), in total and per part.
    struct Expected: Sendable, CustomTestStringConvertible {
        let variant: String
        let params: Int, macs: Int
        let encoder: (params: Int, macs: Int)
        let decoder: (params: Int, macs: Int)
        let tp: (params: Int, macs: Int)
        /// The paper's table: GMACs, M params.
        let paper: (gmacs: Double, mparams: Double)?
        var testDescription: String { variant }
    }

    static let histoNeXt: [Expected] = [
        Expected(
            variant: "tiny", params: 81_583_997, macs: 33_898_491_348, encoder: (27_818_592, 5_976_883_296),
            decoder: (20_386_468, 21_565_860_864), tp: (33_378_937, 6_355_747_188), paper: (33.7, 82.6)),
        Expected(
            variant: "base", params: 183_134_741, macs: 69_966_434_208, encoder: (87_564_416, 20_331_364_480),
            decoder: (36_232_068, 38_336_577_536), tp: (59_338_257, 11_298_492_192), paper: (69.5, 184.8)),
        Expected(
            variant: "large", params: 411_230_377, macs: 157_164_898_368, encoder: (196_227_264, 45_493_518_528),
            decoder: (81_498_436, 86_251_155_456), tp: (133_504_677, 25_420_224_384), paper: (155.7, 414.0)),
        Expected(
            variant: "xlarge", params: 730_346_592, macs: 279_173_528_960, encoder: (348_143_872, 80_653_320_448),
            decoder: (144_865_028, 153_329_926_144), tp: (237_337_692, 45_190_282_368), paper: (276.0, 734.4)),
        Expected(
            variant: "atto", params: 3_855_462, macs: 1_301_934_076, encoder: (3_373_880, 734_818_800),
            decoder: (287_316, 434_765_680), tp: (194_266, 132_349_596), paper: nil),
        Expected(
            variant: "mini", params: 1_792_410, macs: 897_550_704, encoder: (232_272, 51_195_056),
            decoder: (569_588, 599_905_024), tp: (990_550, 246_450_624), paper: nil),
        Expected(
            variant: "micro", params: 180_418, macs: 145_381_124, encoder: (61_864, 15_268_440),
            decoder: (44_528, 74_131_064), tp: (74_026, 55_981_620), paper: nil),
    ]

    @Test(arguments: histoNeXt)
    func histoNeXtCountsEqualTheReference(_ expected: Expected) throws {
        var parameters = ShapeOnlyParameters()
        let model = try HistoNeXt.model(try HistoNeXtConfig.named(expected.variant), numTypes: 6, parameters: &parameters)
        #expect(model.validate().isEmpty, "\(model.validate().prefix(3))")
        let macs = try model.graph.multiplyAccumulates()
        #expect(macs.isComplete, "\(macs.uncounted.prefix(3))")

        #expect(parameters.trainableCount() == expected.params)
        #expect(macs.total == expected.macs)
        // Node names are scoped like the parameters: "encoder.stages.0.blocks.0.conv_dw/Conv",
        // "decoder/Slice".
        for (part, counts) in [("encoder", expected.encoder), ("decoder", expected.decoder), ("tp", expected.tp)] {
            #expect(parameters.trainableCount(prefix: "\(part).") == counts.params, "\(part) parameters")
            #expect(macs.total(prefix: part) == counts.macs, "\(part) MACs")
        }

        if let paper = expected.paper {
            let paramsOff = Double(parameters.trainableCount()) / (paper.mparams * 1e6) - 1
            let macsOff = Double(macs.total) / (paper.gmacs * 1e9) - 1
            #expect(abs(paramsOff) <= 0.03, "parameters \(paramsOff * 100)% off the paper")
            #expect(abs(macsOff) <= 0.03, "MACs \(macsOff * 100)% off the paper")
        }
    }

    /// A larger batch multiplies every count; an extra type adds T0 + 1 params and 6,400·T0 MACs (§7).
    @Test func macsScaleWithBatchAndTypes() throws {
        var parameters = ShapeOnlyParameters()
        let base = try HistoNeXt.model(.base, numTypes: 6, parameters: &parameters)
        #expect(try base.graph.multiplyAccumulates(inputs: ["input": [3, 3, 270, 270]]).total == 3 * 69_966_434_208)

        var more = ShapeOnlyParameters()
        let sevenTypes = try HistoNeXt.model(.base, numTypes: 7, parameters: &more)
        #expect(more.trainableCount() == 183_134_741 + 49)
        #expect(try sevenTypes.graph.multiplyAccumulates().total == 69_966_434_208 + 6_400 * 48)
    }

    @Test(arguments: [
        ("tiny", 28_589_128, 4_455_531_264, 4.47),  // timm's table: 4.47 GMACs (it counts norms too)
        ("atto", 3_695_520, 547_332_480, 0.55),
    ])
    func convNeXtClassifierCountsEqualTimm(_ variant: String, params: Int, macs: Int, published: Double) throws {
        var parameters = ShapeOnlyParameters()
        let model = try ConvNeXt.model(try ConvNeXtConfig.named(variant), parameters: &parameters)
        #expect(model.validate().isEmpty)
        let count = try model.graph.multiplyAccumulates()
        #expect(count.isComplete)
        #expect(parameters.trainableCount() == params)
        #expect(count.total == macs)
        #expect(abs(Double(count.total) / (published * 1e9) - 1) < 0.01)
        // The classifier Gemm counts too (768 x 1000 for tiny).
        #expect(count.byOpType["Gemm"] == parameters.requested.first { $0.name == "head.fc.weight" }.map { elementCount($0.shape) })
    }
}
