import Foundation
import NXTestSupport
import Testing

@testable import NXPathology

/// The output directory: every file readable (by us and by Python), HoVer-Net's JSON layout,
/// closed GeoJSON rings, the overlay, and the all-or-nothing rule.
@Suite("Writers: output directory")
struct WritersOutputTests {
    static let classNames = ["background", "neoplastic", "inflammatory", "connective"]

    /// A 64x48 image with three rectangular nuclei (types 1, 3 and untyped) and one single-pixel
    /// nucleus whose contour cannot be a polygon.
    static func sample() -> SegmentationOutput {
        var image = RGBImage(width: 64, height: 48, filling: (230, 200, 220))
        for y in 0..<48 { for x in 0..<64 where (x + y) % 7 == 0 { image[x, y] = (120, 60, 140) } }
        var instances = LabelMap(width: 64, height: 48)
        var types = GrayImage<UInt8>(width: 64, height: 48)
        var nuclei: [Nucleus] = []
        let boxes: [(id: Int, x: Int, y: Int, w: Int, h: Int, type: Int?)] = [
            (1, 5, 4, 10, 8, 1), (2, 30, 10, 6, 12, 3), (7, 44, 30, 12, 9, nil), (65535, 60, 2, 1, 1, 2),
        ]
        for box in boxes {
            for y in box.y..<(box.y + box.h) {
                for x in box.x..<(box.x + box.w) {
                    instances[x, y] = Int32(box.id)
                    types[x, y] = UInt8(box.type ?? 0)
                }
            }
            let (x1, y1) = (box.x + box.w - 1, box.y + box.h - 1)
            let contour: [Nucleus.Point] = box.w == 1
                ? [.init(x: box.x, y: box.y)]
                : [.init(x: box.x, y: box.y), .init(x: box.x, y: y1), .init(x: x1, y: y1), .init(x: x1, y: box.y)]
            nuclei.append(Nucleus(
                id: box.id,
                bbox: .init(rowMin: box.y, columnMin: box.x, rowMax: box.y + box.h, columnMax: box.x + box.w),
                centroid: .init(x: Double(box.x) + Double(box.w - 1) / 2, y: Double(box.y) + Double(box.h - 1) / 2),
                contour: contour, type: box.type, typeProbability: box.type.map { _ in 0.875 }))
        }
        return SegmentationOutput(image: image, instances: instances, types: types, nuclei: nuclei, classNames: classNames, magnification: 40)
    }

    @Test func writesEveryFileReadably() throws {
        let parent = try TemporaryDirectory()
        let output = Self.sample()
        let directory = parent.file("result")
        try SegmentationOutputWriter.write(output, to: directory)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).sorted() == SegmentationOutputWriter.fileNames.sorted())
        #expect(try parent.contents() == ["result"], "no temporary sibling may remain")
        #expect(try PNGImage.readLabelMap(path: "\(directory)/instances.png") == output.instances)
        #expect(try PNGImage.readGray16(path: "\(directory)/types.png") == output.types.converted(to: UInt16.self))

        let overlay = try PNGImage.read(path: "\(directory)/overlay.png")
        #expect(overlay.height > 48 && overlay.width >= 64)
        // Contour pixels take the type's colour; pixels off every contour keep the image's.
        #expect(overlay[5, 4] == (255, 0, 0) && overlay[14, 11] == (255, 0, 0) && overlay[9, 4] == (255, 0, 0))
        #expect(overlay[30, 15] == (0, 0, 255))
        #expect(overlay[44, 35] == ClassPalette.untyped)
        #expect(overlay[60, 2] == (0, 255, 0))
        #expect(overlay[8, 8] == output.image[8, 8] && overlay[0, 0] == output.image[0, 0])

        // Without overwrite a second run refuses and leaves the first intact.
        let error = #expect(throws: ImageFileError.self) { try SegmentationOutputWriter.write(output, to: directory) }
        #expect(error?.message.contains("already exists") == true)
        var changed = output
        changed.nuclei.removeLast()
        try SegmentationOutputWriter.write(changed, to: directory, overwrite: true)
        let json = try String(contentsOfFile: "\(directory)/nuclei.json", encoding: .utf8)
        #expect(!json.contains("\"65535\"") && json.contains("\"7\""))
        #expect(try parent.contents() == ["result"])
    }

    @Test func jsonFollowsHoverNetLayout() throws {
        let text = String(decoding: try NucleiJSON.encode(Self.sample().nuclei, magnification: nil), as: UTF8.self)
        #expect(text.hasPrefix("{\"mag\": null, \"nuc\": {\"1\": {\"bbox\": [[4, 5], [12, 15]], \"centroid\": [9.5, 7.5], \"contour\": [[5, 4], [5, 11], [14, 11], [14, 4]], \"type_prob\": 0.875, \"type\": 1}"))
        #expect(text.contains("\"7\": {\"bbox\": [[30, 44], [39, 56]]") && text.contains("\"type_prob\": null, \"type\": null}"))
        var broken = Self.sample().nuclei
        broken[1].centroid.x = .nan
        let error = #expect(throws: JSONTextError.self) { try NucleiJSON.encode(broken) }
        #expect(error?.message.contains("nucleus 2 centroid x") == true)
        broken = Self.sample().nuclei
        broken[2].id = 1
        #expect(throws: JSONTextError.self) { try NucleiJSON.encode(broken) }
    }

    @Test func geoJSONRingsAreClosed() {
        for nucleus in Self.sample().nuclei {
            let ring = NucleiGeoJSON.ring(nucleus)
            #expect(ring.first == ring.last && ring.count >= 4)
        }
        // The single-pixel nucleus becomes its pixel's square.
        let dot = Self.sample().nuclei.last!
        #expect(NucleiGeoJSON.ring(dot) == [.init(x: 60, y: 2), .init(x: 61, y: 2), .init(x: 61, y: 3), .init(x: 60, y: 3), .init(x: 60, y: 2)])
    }

    /// Encoding on several threads writes the same bytes as on one.
    @Test func threadsDoNotChangeTheFiles() throws {
        let parent = try TemporaryDirectory()
        try SegmentationOutputWriter.write(Self.sample(), to: parent.file("one"), threads: 1)
        try SegmentationOutputWriter.write(Self.sample(), to: parent.file("three"), threads: 3)
        for name in SegmentationOutputWriter.fileNames {
            #expect(try Data(contentsOf: URL(fileURLWithPath: parent.file("one/\(name)")))
                == Data(contentsOf: URL(fileURLWithPath: parent.file("three/\(name)"))), "\(name)")
        }
    }

    /// The destination check throws what writing would, before any work: `nx segment` runs it
    /// before loading the model, not after a long job.
    @Test func destinationIsCheckedUpFront() throws {
        let parent = try TemporaryDirectory()
        try SegmentationOutputWriter.checkDestination(parent.file("new"))
        let missing = #expect(throws: ImageFileError.self) { try SegmentationOutputWriter.checkDestination(parent.file("absent/new")) }
        #expect(missing?.message.contains("parent directory") == true)
        try SegmentationOutputWriter.write(Self.sample(), to: parent.file("done"))
        let existing = #expect(throws: ImageFileError.self) { try SegmentationOutputWriter.checkDestination(parent.file("done")) }
        #expect(existing?.message.contains("already exists") == true)
        try SegmentationOutputWriter.checkDestination(parent.file("done"), overwrite: true)
        #expect(try parent.contents() == ["done"], "checking creates nothing")
    }

    /// Python's json reads both files; the GeoJSON is what QuPath imports (FeatureCollection,
    /// Polygon features with closed rings of at least four positions, detection objects with
    /// a classification name and colour).
    @Test(.enabled(if: PythonTool.shouldRun)) func pythonReadsTheJSONFiles() throws {
        let parent = try TemporaryDirectory()
        let directory = parent.file("out")
        try SegmentationOutputWriter.write(Self.sample(), to: directory)
        let report = try PythonTool.run(script: """
            import json, sys
            d = sys.argv[1]
            nuclei = json.load(open(d + "/nuclei.json"))
            assert list(nuclei.keys()) == ["mag", "nuc"], nuclei.keys()
            assert nuclei["mag"] == 40
            nuc = nuclei["nuc"]
            assert list(nuc.keys()) == ["1", "2", "7", "65535"], list(nuc.keys())
            for key, n in nuc.items():
                assert list(n.keys()) == ["bbox", "centroid", "contour", "type_prob", "type"], n.keys()
                (rmin, cmin), (rmax, cmax) = n["bbox"]
                assert rmin < rmax and cmin < cmax
                assert all(cmin <= x < cmax and rmin <= y < rmax for x, y in n["contour"]), key
                cx, cy = n["centroid"]
                assert cmin <= cx < cmax and rmin <= cy < rmax
            assert nuc["7"]["type"] is None and nuc["7"]["type_prob"] is None
            assert nuc["2"]["type"] == 3 and nuc["2"]["type_prob"] == 0.875
            geo = json.load(open(d + "/nuclei.geojson"))
            assert geo["type"] == "FeatureCollection" and len(geo["features"]) == 4
            names = []
            for f in geo["features"]:
                assert f["type"] == "Feature" and f["geometry"]["type"] == "Polygon"
                ring = f["geometry"]["coordinates"][0]
                assert len(ring) >= 4 and ring[0] == ring[-1], ring
                props = f["properties"]
                assert props["objectType"] == "detection"
                c = props.get("classification")
                names.append(c["name"] if c else None)
                if c:
                    assert len(c["color"]) == 3 and all(0 <= v <= 255 for v in c["color"])
            print(json.dumps(names))
            """, arguments: [directory])
        let names = try #require(PythonTool.json(report) as? [Any]).map { $0 as? String }
        #expect(names == ["neoplastic", "connective", nil, "inflammatory"])
    }

    /// A failure after some files are written leaves no directory and no temporary sibling;
    /// when replacing, the previous directory survives untouched.
    @Test func failurePartWayLeavesNothing() throws {
        struct Injected: Error {}
        let parent = try TemporaryDirectory()
        let directory = parent.file("result")
        for failAfter in SegmentationOutputWriter.fileNames {
            #expect(throws: Injected.self) {
                try SegmentationOutputWriter.write(Self.sample(), to: directory, overwrite: false) { name in
                    if name == failAfter { throw Injected() }
                }
            }
            #expect(try parent.contents().isEmpty, "after failing at \(failAfter)")
        }

        try SegmentationOutputWriter.write(Self.sample(), to: directory)
        let before = try Data(contentsOf: URL(fileURLWithPath: "\(directory)/nuclei.json"))
        var other = Self.sample()
        other.nuclei = []
        #expect(throws: Injected.self) {
            try SegmentationOutputWriter.write(other, to: directory, overwrite: true) { name in
                if name == "instances.png" { throw Injected() }
            }
        }
        #expect(try parent.contents() == ["result"])
        #expect(try Data(contentsOf: URL(fileURLWithPath: "\(directory)/nuclei.json")) == before)

        // A real failure: an id that does not fit 16 bits, named with its file.
        var tooMany = Self.sample()
        tooMany.instances[0, 0] = 70000
        let error = #expect(throws: ImageFileError.self) { try SegmentationOutputWriter.write(tooMany, to: parent.file("other")) }
        #expect(error?.path.hasSuffix("other/instances.png") == true && error?.message.contains("70000") == true)
        #expect(try parent.contents() == ["result"])

        // Mismatched sizes are refused before anything is written.
        var wrong = Self.sample()
        wrong.types = GrayImage<UInt8>(width: 3, height: 3)
        #expect(throws: ImageFileError.self) { try SegmentationOutputWriter.write(wrong, to: parent.file("third")) }
        #expect(try parent.contents() == ["result"])
    }

    @Test func fontCoversPrintableASCII() {
        let glyphs = (32...126).map { BitmapFont.glyph(Character(UnicodeScalar(UInt8($0)))) }
        #expect(glyphs.allSatisfy { $0.count == BitmapFont.glyphHeight && $0.allSatisfy { $0 < 32 } })
        #expect(glyphs[0].allSatisfy { $0 == 0 })
        #expect(glyphs.dropFirst().allSatisfy { $0.contains { $0 != 0 } })
        #expect(Set(glyphs.map { $0.map(String.init).joined(separator: ",") }).count == 95, "every glyph is distinct")
        #expect(BitmapFont.glyph("é") == BitmapFont.glyph("?"))
        #expect(BitmapFont.width(of: "abc", scale: 2) == 34)

        var canvas = RGBImage(width: 12, height: 8, filling: (255, 255, 255))
        BitmapFont.draw("T", into: &canvas, x: 1, y: 1, color: (0, 0, 0))
        // 'T': a full top bar, then the middle column.
        #expect((1...5).allSatisfy { canvas[$0, 1] == (0, 0, 0) } && canvas[3, 7] == (0, 0, 0) && canvas[1, 7] == (255, 255, 255))
    }

    @Test func legendListsClassesWithCounts() {
        let entries = OverlayRenderer.legendEntries(nuclei: Self.sample().nuclei, classNames: Self.classNames)
        #expect(entries.map(\.text) == ["neoplastic: 1", "inflammatory: 1", "connective: 1", "nuclei: 1"])
        let untypedOnly = OverlayRenderer.legendEntries(nuclei: [], classNames: [])
        #expect(untypedOnly.map(\.text) == ["nuclei: 0"])
    }
}
