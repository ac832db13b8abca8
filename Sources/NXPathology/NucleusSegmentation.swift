import Dispatch

/// The whole job for one H&E image: tiled inference, HoVer-Net post-processing, per-nucleus
/// records and the maps the output writer takes. The CLI's `nx segment` is this plus I/O.
public enum NucleusSegmentation {
    public struct Result: Sendable {
        public var output: SegmentationOutput
        public var records: [InstanceRecord]
        public var inference: SegmentationResult
        /// Seconds spent in post-processing (instances, records and maps).
        public var postProcessingSeconds: Double
    }

    public static func run(
        _ image: RGBImage, segmenter: Segmenter, postProcessor: PostProcessor = PostProcessor(),
        progress: ((SegmentationProgress) -> Void)? = nil
    ) throws -> Result {
        let inference = try segmenter.segment(image, progress: progress)
        let start = DispatchTime.now().uptimeNanoseconds
        let maps = inference.maps
        let instances = try postProcessor.instances(
            np: maps.nucleusProbability, hv: maps.horizontal + maps.vertical, width: maps.width, height: maps.height)
        let records: [InstanceRecord]
        if let typeMap = maps.mostProbableType() {
            records = try postProcessor.instanceRecords(labels: instances, typeArgmax: typeMap.pixels)
        } else {
            records = try postProcessor.instanceRecords(labels: instances)
        }
        // types.png: each nucleus's pixels carry its voted type, as HoVer-Net's type map.
        var typeOf = [Int32: UInt8]()
        for record in records { typeOf[record.id] = UInt8(clamping: record.type ?? 0) }
        var types = GrayImage<UInt8>(width: maps.width, height: maps.height)
        for (index, label) in instances.labels.enumerated() where label != 0 {
            types.pixels[index] = typeOf[label] ?? 0
        }
        let output = SegmentationOutput(
            image: image, instances: LabelMap(width: maps.width, height: maps.height, pixels: instances.labels)!, types: types,
            nuclei: records.map(\.nucleus), classNames: maps.typeCount > 0 ? segmenter.info.classNames : [])
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return Result(output: output, records: records, inference: inference, postProcessingSeconds: seconds)
    }
}
