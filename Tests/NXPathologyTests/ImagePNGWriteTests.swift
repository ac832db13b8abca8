import Foundation
import NXTestSupport
import Testing

@testable import NXPathology

/// PNG writing: exact round trips through our reader and through an independent Python
/// decoder, and the all-or-nothing file rule.
@Suite("Image: PNG writing")
struct ImagePNGWriteTests {
    static func sampleRGB(width: Int, height: Int) -> RGBImage {
        let pixels = (0..<(width * height * 3)).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ ($0 / 3) &* 11) }
        return RGBImage(width: width, height: height, pixels: pixels)!
    }

    @Test func rgbRoundTrip() throws {
        let directory = try TemporaryDirectory()
        for (width, height) in [(1, 1), (7, 5), (64, 33)] {
            let image = Self.sampleRGB(width: width, height: height)
            let path = directory.file("rgb_\(width)x\(height).png")
            try PNGWriter.write(image, to: path)
            #expect(try PNGImage.read(path: path) == image)
        }
    }

    @Test func grayEightBitRoundTrip() throws {
        let directory = try TemporaryDirectory()
        let image = GrayImage<UInt8>(width: 16, height: 16, pixels: (0..<256).map(UInt8.init))!
        let path = directory.file("gray8.png")
        try PNGWriter.write(image, to: path)
        #expect(try PNGImage.readGray16(path: path) == image.converted(to: UInt16.self))
        // Read as colour, gray g becomes (g, g, g).
        let rgb = try PNGImage.read(path: path)
        #expect(rgb.pixels == image.pixels.flatMap { [$0, $0, $0] })
    }

    @Test func graySixteenBitRoundTripsEveryValue() throws {
        let directory = try TemporaryDirectory()
        let image = GrayImage<UInt16>(width: 256, height: 256, pixels: (0...65535).map(UInt16.init))!
        let path = directory.file("gray16.png")
        try PNGWriter.write(image, to: path)
        #expect(try PNGImage.readGray16(path: path) == image)
        let labels = try PNGImage.readLabelMap(path: path)
        #expect(labels.pixels == (0...65535).map(Int32.init))
    }

    @Test func labelMapsMustFitSixteenBits() throws {
        let directory = try TemporaryDirectory()
        var labels = LabelMap(width: 4, height: 3)
        labels[2, 1] = 65535
        let path = directory.file("labels.png")
        try PNGWriter.writeLabels(labels, to: path)
        #expect(try PNGImage.readLabelMap(path: path) == labels)

        labels[3, 2] = 70000
        let error = #expect(throws: ImageFileError.self) { try PNGWriter.writeLabels(labels, to: path) }
        #expect(error?.message.contains("70000") == true)
        #expect(error?.message.contains("x=3, y=2") == true)
        // The failed write left the earlier file untouched and no temporary behind.
        #expect(try PNGImage.readLabelMap(path: path)[2, 1] == 65535)
        #expect(try directory.contents() == ["labels.png"])
    }

    @Test func writesAreAtomic() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("out.png")
        try PNGWriter.write(Self.sampleRGB(width: 3, height: 2), to: path)
        try PNGWriter.write(Self.sampleRGB(width: 5, height: 4), to: path)
        #expect(try PNGImage.read(path: path).width == 5)
        #expect(try directory.contents() == ["out.png"], "no temporary file may remain")

        let missing = directory.file("no/such/folder/out.png")
        let error = #expect(throws: ImageFileError.self) { try PNGWriter.write(Self.sampleRGB(width: 2, height: 2), to: missing) }
        #expect(error?.path == missing)
    }

    /// What we write is plain PNG that another decoder reads: the fixture script's own
    /// zlib-based decoder gets the same samples, at the promised bit depth and colour type.
    @Test(.enabled(if: PythonTool.shouldRun)) func pythonDecodesWhatWeWrite() throws {
        let directory = try TemporaryDirectory()
        let script = PythonTool.converterScript("make_png_fixtures.py")
        func decode(_ path: String) throws -> [String: Any] {
            try PythonTool.json(PythonTool.run([script, "--decode", path])) as! [String: Any]
        }

        let rgb = Self.sampleRGB(width: 9, height: 6)
        try PNGWriter.write(rgb, to: directory.file("rgb.png"))
        let rgbDecoded = try decode(directory.file("rgb.png"))
        #expect(rgbDecoded["bit_depth"] as? Int == 8 && rgbDecoded["color_type"] as? Int == 2)
        #expect((rgbDecoded["samples"] as? [Int])?.map(UInt8.init) == rgb.pixels)

        let gray = GrayImage<UInt8>(width: 5, height: 3, pixels: (0..<15).map { UInt8($0 * 17) })!
        try PNGWriter.write(gray, to: directory.file("gray.png"))
        let grayDecoded = try decode(directory.file("gray.png"))
        #expect(grayDecoded["bit_depth"] as? Int == 8 && grayDecoded["color_type"] as? Int == 0)
        #expect((grayDecoded["samples"] as? [Int])?.map(UInt8.init) == gray.pixels)

        let wide = GrayImage<UInt16>(width: 7, height: 4, pixels: (0..<28).map { UInt16($0 * 2340 + 17) })!
        try PNGWriter.write(wide, to: directory.file("gray16.png"))
        let wideDecoded = try decode(directory.file("gray16.png"))
        #expect(wideDecoded["bit_depth"] as? Int == 16 && wideDecoded["color_type"] as? Int == 0)
        #expect((wideDecoded["samples"] as? [Int])?.map(UInt16.init) == wide.pixels)
    }
}
