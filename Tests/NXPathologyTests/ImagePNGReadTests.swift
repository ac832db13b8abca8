import Foundation
import NXTestSupport
import Testing

@testable import NXPathology

/// PNG reading: every colour type and bit depth against the fixture script's own expected
/// values, raw gray samples for label maps, and refusal of broken or foreign files.
@Suite("Image: PNG reading")
struct ImagePNGReadTests {
    struct Case: Sendable, CustomStringConvertible {
        let name: String
        let width: Int
        let height: Int
        let rgb: [UInt8]
        let gray: [UInt16]?
        let error: String?
        var description: String { name }
    }

    static let cases: [Case] = {
        guard let data = FileManager.default.contents(atPath: Fixtures.png("manifest.json")),
            let manifest = try? JSONSerialization.jsonObject(with: data) as? [String: [String: Any]]
        else { return [] }
        return manifest.keys.sorted().map { name in
            let entry = manifest[name]!
            return Case(
                name: name, width: entry["width"] as! Int, height: entry["height"] as! Int,
                rgb: (entry["rgb"] as! [Int]).map(UInt8.init), gray: (entry["gray"] as? [Int])?.map(UInt16.init),
                error: entry["error"] as? String)
        }
    }()

    @Test func manifestListsEveryFlavour() {
        let names = Set(Self.cases.map(\.name))
        for expected in ["gray1", "gray2", "gray4", "gray8", "gray16", "graya8", "graya16", "rgb8", "rgb16", "rgba8",
            "rgba16", "palette1", "palette2", "palette4", "palette8", "palette8_trns", "gray8_trns", "rgb8_trns",
            "rgb8_interlaced", "gray16_interlaced", "rgba16_interlaced", "rgba16_interlaced_opaque", "graya16_interlaced_opaque",
            "rgb16_interlaced", "graya8_interlaced", "palette4_interlaced", "rgb8_gamma1", "rgb16_srgb", "one_by_one"]
        {
            #expect(names.contains(expected), "fixture \(expected) is missing: rerun Converters/python/make_png_fixtures.py")
        }
    }

    @Test(arguments: cases)
    func readsAsEightBitRGB(_ fixture: Case) throws {
        let path = Fixtures.png("\(fixture.name).png")
        if let expected = fixture.error {
            let error = #expect(throws: ImageFileError.self) { try PNGImage.read(path: path) }
            #expect(error?.path == path)
            #expect(error?.message.contains(expected) == true, "message was: \(error?.message ?? "-")")
            return
        }
        let image = try PNGImage.read(path: path)
        #expect(image.width == fixture.width)
        #expect(image.height == fixture.height)
        #expect(image.pixels.count == fixture.width * fixture.height * 3)
        if let mismatch = zip(image.pixels, fixture.rgb).enumerated().first(where: { $0.element.0 != $0.element.1 }) {
            let pixel = mismatch.offset / 3
            Issue.record("\(fixture.name): pixel (\(pixel % fixture.width), \(pixel / fixture.width)) channel \(mismatch.offset % 3) is \(mismatch.element.0), expected \(mismatch.element.1)")
        }
    }

    @Test(arguments: cases.filter { $0.gray != nil })
    func readsRawGraySamples(_ fixture: Case) throws {
        let path = Fixtures.png("\(fixture.name).png")
        if fixture.name.hasSuffix("_trns") {
            #expect(throws: ImageFileError.self) { try PNGImage.readGray16(path: path) }
            return
        }
        let image = try PNGImage.readGray16(path: path)
        #expect(image.width == fixture.width && image.height == fixture.height)
        #expect(image.pixels == fixture.gray)
        let labels = try PNGImage.readLabelMap(path: path)
        #expect(labels.pixels == fixture.gray!.map(Int32.init))
    }

    @Test func sixteenBitRampCoversEveryValue() throws {
        let path = Fixtures.png("gray16_ramp.png")
        let raw = try PNGImage.readGray16(path: path)
        #expect(raw.width == 256 && raw.height == 256)
        #expect(raw.pixels == (0...65535).map { UInt16($0) })
        // 16 -> 8 bits rounds: v * 255 / 65535 to nearest, never truncation (v >> 8).
        let rgb = try PNGImage.read(path: path)
        for value in 0...65535 {
            let expected = UInt8((value * 255 + 32767) / 65535)
            let got = rgb.pixels[value * 3]
            if got != expected || rgb.pixels[value * 3 + 1] != expected || rgb.pixels[value * 3 + 2] != expected {
                Issue.record("16-bit \(value) read as \(got), expected \(expected)")
                break
            }
        }
    }

    @Test func oneByOneImage() throws {
        let image = try PNGImage.read(path: Fixtures.png("one_by_one.png"))
        #expect(image.width == 1 && image.height == 1 && image.pixels.count == 3)
    }

    @Test func colourImagesAreNotLabelMaps() throws {
        let path = Fixtures.png("rgb8.png")
        let error = #expect(throws: ImageFileError.self) { try PNGImage.readGray16(path: path) }
        #expect(error?.path == path)
        #expect(error?.message.contains("grayscale") == true)
    }

    // MARK: Bad input

    @Test(arguments: [
        ("not_png.txt", "not a PNG image"),
        ("jpeg_signature.jpg", "JPEG is not supported yet (only PNG)"),
        ("tiff_signature.tif", "TIFF is not supported yet (only PNG)"),
        ("empty.png", "empty"),
        ("zero_size.png", "0x0"),
        ("truncated_idat.png", "truncated"),
        ("truncated_signature.png", "truncated"),
        ("no_iend.png", "truncated"),
        ("bad_crc.png", "CRC"),
        ("bad_zlib.png", "corrupt"),
        ("first_chunk_not_ihdr.png", "IHDR"),
    ])
    func refusesBadFiles(_ name: String, _ fragment: String) throws {
        let path = Fixtures.png("bad/\(name)")
        let error = #expect(throws: ImageFileError.self) { try PNGImage.read(path: path) }
        #expect(error?.path == path)
        #expect(error?.description.hasPrefix(path) == true)
        #expect(error?.message.contains(fragment) == true, "message was: \(error?.message ?? "-")")
    }

    @Test func missingFileAndDirectory() throws {
        let directory = try TemporaryDirectory()
        let missing = directory.file("nope.png")
        let error = #expect(throws: ImageFileError.self) { try PNGImage.read(path: missing) }
        #expect(error?.message == "no such file")
        let folder = #expect(throws: ImageFileError.self) { try PNGImage.read(path: directory.path) }
        #expect(folder?.message.contains("directory") == true)
    }

    /// Every prefix of a valid file is refused with an error: none crashes or is accepted.
    @Test func everyTruncationIsAnError() throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: Fixtures.png("rgb8_interlaced.png")))
        let directory = try TemporaryDirectory()
        let path = directory.file("cut.png")
        for length in 0..<bytes.count {
            try bytes.prefix(length).write(to: URL(fileURLWithPath: path))
            do {
                _ = try PNGImage.read(path: path)
                Issue.record("a file cut to \(length) of \(bytes.count) bytes was accepted")
            } catch let error as ImageFileError {
                #expect(error.path == path)
            }
        }
    }

    /// Flipping any single byte either is caught or still decodes to an image of the declared
    /// size; libpng's errors never escape as a crash.
    @Test func singleByteCorruptionNeverCrashes() throws {
        let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.png("palette8_trns.png"))))
        let directory = try TemporaryDirectory()
        let path = directory.file("flipped.png")
        var refused = 0
        for index in 0..<original.count {
            var bytes = original
            bytes[index] ^= 0x5A
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            do {
                let image = try PNGImage.read(path: path)
                #expect(image.pixels.count == image.width * image.height * 3)
            } catch is ImageFileError {
                refused += 1
            }
        }
        // Critical chunks are CRC-checked, so nearly every flip must be refused.
        #expect(refused > original.count * 9 / 10)
    }
}
