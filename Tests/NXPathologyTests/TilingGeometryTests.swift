import Foundation
import NXTestSupport
import Testing

@testable import NXPathology

/// Tile geometry from metadata, coverage of every image pixel, numpy's reflect padding and
/// the bilinear sample positions.
@Suite("Tiling: geometry")
struct TilingGeometryTests {
    static let histoNeXt = try! TileGeometry(metadata: TilingTestModels.metadata(inputSize: 270, outputSize: 80, stride: 2, offset: 55))
    static let hoverNet = try! TileGeometry(metadata: TilingTestModels.metadata(inputSize: 270, outputSize: 80, stride: 1, offset: 95))

    @Test func readsBothGeometriesFromMetadata() {
        #expect(Self.histoNeXt.outputWindow == 160 && Self.histoNeXt.outputOffset == 55 && Self.histoNeXt.outputStride == 2)
        #expect(Self.hoverNet.outputWindow == 80 && Self.hoverNet.outputOffset == 95 && Self.hoverNet.outputStride == 1)
        // HISTONEXT.md §5: output pixel y covers input rows 55+2y and 56+2y, centre 55.5+2y.
        #expect(Self.histoNeXt.outputCenter(0) == 55.5)
        #expect(Self.histoNeXt.outputCenter(79) == 55.5 + 158)
        #expect(Self.hoverNet.outputCenter(0) == 95)
    }

    @Test func missingOrInconsistentMetadataIsNamed() {
        let good = TilingTestModels.metadata(inputSize: 270, outputSize: 80, stride: 2, offset: 55)
        for key in TileGeometry.metadataKeys {
            var metadata = good
            metadata[key] = nil
            let error = #expect(throws: ModelContractError.self) { try TileGeometry(metadata: metadata) }
            #expect(error == .metadata(key: key, message: error.map { if case .metadata(_, let m) = $0 { m } else { "" } } ?? ""))
            #expect("\(error!)".contains(key) && "\(error!)".contains("missing"))
        }
        func message(_ changes: [String: String]) -> String {
            do {
                _ = try TileGeometry(metadata: good.merging(changes) { $1 })
                return "accepted"
            } catch { return "\(error)" }
        }
        #expect(message(["nx.output_window": "150"]).contains("nx.output_window"))
        #expect(message(["nx.output_offset": "53"]).contains("centred"))
        #expect(message(["nx.output_size": "eighty"]).contains("'eighty' is not an integer"))
        #expect(message(["nx.output_stride": "0"]).contains("positive"))
        #expect(message(["nx.output_offset": "200", "nx.input_size": "270"]).contains("outside"))
    }

    @Test func modelInfoReadsNormalisationNamesAndClasses() throws {
        var metadata = TilingTestModels.metadata(inputSize: 270, outputSize: 80, stride: 2, offset: 55, scale: "0.003921569")
        metadata["nx.input_mean"] = "0.485,0.456,0.406"
        metadata["nx.input_std"] = "0.229,0.224,0.225"
        let info = try SegmentationModelInfo(metadata: metadata)
        #expect(info.classNames == ["background", "red", "green"] && info.typeCount == 3)
        #expect(info.npOutput == "np" && info.hvOutput == "hv" && info.tpOutput == "tp")
        let table = info.normalization.lookupTable
        #expect(abs(table[255] - (1 - 0.485) / 0.229) < 1e-5)
        #expect(abs(table[256 + 0] - (-0.456 / 0.224)) < 1e-6)

        metadata["nx.input_std"] = "1,0,1"
        #expect(throws: ModelContractError.self) { try SegmentationModelInfo(metadata: metadata) }
        metadata["nx.input_std"] = nil
        metadata["nx.class_names"] = "a,b"
        let mismatch = #expect(throws: ModelContractError.self) { try SegmentationModelInfo(metadata: metadata) }
        #expect("\(mismatch!)".contains("nx.class_names"))

        // Defaults: scale 1/255, names np,hv,tp, class names from the count.
        let bare = ["nx.input_size": "270", "nx.output_size": "80", "nx.output_stride": "1", "nx.output_offset": "95",
            "nx.output_window": "80", "nx.num_types": "4"]
        let defaults = try SegmentationModelInfo(metadata: bare)
        #expect(defaults.normalization.scale == Float(1) / 255)
        #expect(defaults.classNames == ["background", "type1", "type2", "type3"])
        let noTypes = try SegmentationModelInfo(metadata: bare.merging(["nx.output_names": "np,hv"]) { $1 })
        #expect(noTypes.tpOutput == nil && noTypes.classNames.isEmpty)
    }

    /// Each image pixel lies in exactly one tile's covered window, and that window is what
    /// the tile's output pixels cover: offset + stride*i in tile input coordinates.
    @Test(arguments: [(1, 1), (2, 3), (37, 50), (79, 80), (81, 159), (160, 161), (270, 271), (517, 300)])
    func everyPixelIsCoveredExactlyOnce(width: Int, height: Int) {
        for geometry in [Self.histoNeXt, Self.hoverNet] {
            let layout = geometry.layout(width: width, height: height)
            #expect(layout.rows == (height + geometry.outputWindow - 1) / geometry.outputWindow)
            // HoVer-Net's count: get_last_steps gives ceil((length - mask) / step) + 1 tiles.
            let hoverRows = Int((Double(height - geometry.outputWindow) / Double(geometry.outputWindow)).rounded(.up)) + 1
            #expect(layout.rows == hoverRows)
            var covered = [Int](repeating: 0, count: width * height)
            for index in 0..<layout.count {
                let tile = layout.tile(index)
                #expect(tile.coveredY.lowerBound == tile.inputY + geometry.outputOffset)
                #expect(tile.coveredX.lowerBound == tile.inputX + geometry.outputOffset)
                #expect(tile.coveredY.count <= geometry.outputWindow && tile.coveredX.count <= geometry.outputWindow)
                for y in tile.coveredY {
                    for x in tile.coveredX { covered[y * width + x] += 1 }
                }
            }
            #expect(covered.allSatisfy { $0 == 1 }, "\(width)x\(height) at stride \(geometry.outputStride)")
            // The first tile starts offset pixels before the image, as HoVer-Net's top/left pad.
            #expect(layout.tile(0).inputX == -geometry.outputOffset)
        }
    }

    @Test func reflectMatchesNumpyByHand() {
        // np.pad(np.arange(4), 6, 'reflect') == [0,1,2,3,2,1, 0,1,2,3, 2,1,0,1,2,3]
        #expect((-6..<10).map { ReflectPadding.index($0, count: 4) } == [0, 1, 2, 3, 2, 1, 0, 1, 2, 3, 2, 1, 0, 1, 2, 3])
        #expect((-3..<5).map { ReflectPadding.index($0, count: 2) } == [1, 0, 1, 0, 1, 0, 1, 0])
        #expect((-95..<200).allSatisfy { ReflectPadding.index($0, count: 1) == 0 })
    }

    /// numpy itself, for every small size and pads far wider than the line.
    @Test(.enabled(if: PythonTool.shouldRun)) func reflectMatchesNumpy() throws {
        let output = try PythonTool.run(script: """
            import json, numpy as np
            print(json.dumps({n: np.pad(np.arange(n), (300, 300), 'reflect').tolist() for n in range(1, 12)}))
            """)
        let table = try PythonTool.json(output) as! [String: [Int]]
        for (key, expected) in table {
            let n = Int(key)!
            #expect((-300..<(n + 300)).map { ReflectPadding.index($0, count: n) } == expected, "n = \(n)")
        }
    }

    @Test func bilinearSamplePositions() {
        // Stride 2: image pixel p samples the grid at u = (p - 0.5) / 2.
        let taps = BilinearTaps(count: 8, gridCount: 4, stride: 2)
        #expect(BilinearTaps.gridCoordinate(of: 1, stride: 2) == 0.25)
        #expect(taps.lower == [0, 0, 0, 1, 1, 2, 2, 3])
        #expect(taps.upper == [0, 1, 1, 2, 2, 3, 3, 3])
        #expect(taps.weight == [0, 0.25, 0.75, 0.25, 0.75, 0.25, 0.75, 0])
        // Stride 1: the identity, weights exactly zero.
        let identity = BilinearTaps(count: 5, gridCount: 5, stride: 1)
        #expect(identity.lower == [0, 1, 2, 3, 4] && identity.upper == identity.lower && identity.weight.allSatisfy { $0 == 0 })
        // Stride 4: centres at 1.5, 5.5, ...; pixel 3 is 1.5/4 of the way from centre 0.
        let four = BilinearTaps(count: 8, gridCount: 2, stride: 4)
        #expect(four.lower[3] == 0 && four.upper[3] == 1 && four.weight[3] == 0.375)
        #expect(four.weight[1] == 0 && four.lower[1] == 0)
    }
}
