/// Everything one segmented image produces, as the output writer takes it.
public struct SegmentationOutput: Sendable {
    /// The input image (the overlay is drawn on it).
    public var image: RGBImage
    /// Instance id per pixel, 0 = background, ids up to 65535 (instances.png is 16-bit).
    public var instances: LabelMap
    /// Type per pixel (types.png).
    public var types: GrayImage<UInt8>
    public var nuclei: [Nucleus]
    /// The model's class names (`nx.class_names`), index 0 = background; empty without types.
    public var classNames: [String]
    /// Magnification for `nuclei.json`'s "mag" (null when nil).
    public var magnification: Double?

    public init(
        image: RGBImage, instances: LabelMap, types: GrayImage<UInt8>, nuclei: [Nucleus], classNames: [String],
        magnification: Double? = nil
    ) {
        self.image = image
        self.instances = instances
        self.types = types
        self.nuclei = nuclei
        self.classNames = classNames
        self.magnification = magnification
    }
}

/// Writes an output directory all-or-nothing: `instances.png` (16-bit instance ids),
/// `types.png` (8-bit type per pixel), `overlay.png` (contours and legend, see
/// `OverlayRenderer`), `nuclei.json` (HoVer-Net's layout, see `NucleiJSON`) and
/// `nuclei.geojson` (QuPath detections, see `NucleiGeoJSON`).
///
/// The files are written into a temporary sibling directory that is renamed to the
/// destination only when all of them are complete; any failure removes it, so the
/// destination is either absent, the previous run's (when overwriting), or complete.
public enum SegmentationOutputWriter {
    public static let fileNames = ["instances.png", "types.png", "overlay.png", "nuclei.json", "nuclei.geojson"]

    /// Writes `output` to `directory`; an existing directory is replaced only with
    /// `overwrite`. The files are encoded on up to `threads` threads (the overlay's PNG takes
    /// most of the time).
    public static func write(_ output: SegmentationOutput, to directory: String, overwrite: Bool = false, threads: Int = 1) throws {
        try write(output, to: directory, overwrite: overwrite, threads: threads, afterEachFile: { _ in })
    }

    /// Throws now the error `write` would throw for `directory` before writing anything (it
    /// exists and may not be replaced, or its parent is missing), so a caller can fail before
    /// a long job instead of after it.
    public static func checkDestination(_ directory: String, overwrite: Bool = false) throws {
        try AtomicWrite.checkDirectoryDestination(directory, replacing: overwrite)
    }

    /// `afterEachFile` runs after each file is written (with its name); tests throw from it
    /// to check that a failure part-way leaves nothing behind.
    static func write(
        _ output: SegmentationOutput, to directory: String, overwrite: Bool, threads: Int = 1,
        afterEachFile: (String) throws -> Void
    ) throws {
        let image = output.image
        for (name, width, height) in [("instances", output.instances.width, output.instances.height), ("types", output.types.width, output.types.height)]
        where width != image.width || height != image.height {
            throw ImageFileError(directory, "the \(name) map is \(width)x\(height) but the image is \(image.width)x\(image.height)")
        }
        // A destination that cannot be written fails before any encoding.
        try AtomicWrite.checkDirectoryDestination(directory, replacing: overwrite)
        // The overlay first, so that on two threads the other four encode beside it.
        let encoders: [(name: String, encode: () throws -> [UInt8])] = [
            ("overlay.png", {
                try PNGWriter.encode(OverlayRenderer.render(image: image, nuclei: output.nuclei, classNames: output.classNames))
            }),
            ("nuclei.json", { try NucleiJSON.encode(output.nuclei, magnification: output.magnification) }),
            ("nuclei.geojson", { try NucleiGeoJSON.encode(output.nuclei, classNames: output.classNames) }),
            ("types.png", { try PNGWriter.encode(output.types) }),
            ("instances.png", { try PNGWriter.encode(PNGWriter.sixteenBit(output.instances, path: "instances.png")) }),
        ]
        let files = try Parallel.map(encoders.count, threads: threads) { index in
            let (name, encode) = encoders[index]
            do { return try encode() } catch let error as JSONTextError {
                throw ImageFileError("\(directory)/\(name)", error.message)
            } catch let error as ImageFileError {
                throw ImageFileError("\(directory)/\(name)", error.message)
            }
        }
        try AtomicWrite.writeDirectory(at: directory, replacing: overwrite) { temporary in
            for (encoder, bytes) in zip(encoders, files) {
                try AtomicWrite.write(bytes, to: "\(temporary)/\(encoder.name)")
                try afterEachFile(encoder.name)
            }
        }
    }
}
