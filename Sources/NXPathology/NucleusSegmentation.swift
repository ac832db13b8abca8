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

    /// `postProcessor` nil: the defaults, on the segmenter's session threads.
    public static func run(
        _ image: RGBImage, segmenter: Segmenter, postProcessor: PostProcessor? = nil,
        progress: ((SegmentationProgress) -> Void)? = nil
    ) throws -> Result {
        let inference = try segmenter.segment(image, progress: progress)
        let start = DispatchTime.now().uptimeNanoseconds
        let postProcessor = postProcessor ?? PostProcessor(threads: segmenter.session.options.threads)
        let maps = inference.maps
        // The type argmax does not need the instances: it is computed beside them.
        var instances: Swift.Result<InstanceMap, PostProcessingError>?
        var typeMap: GrayImage<UInt8>?
        Parallel.forEach(2, threads: postProcessor.threads) { step in
            if step == 0 {
                instances = Swift.Result { () throws(PostProcessingError) in
                    try postProcessor.instances(
                        np: maps.nucleusProbability, hv: maps.horizontal + maps.vertical, width: maps.width, height: maps.height)
                }
            } else {
                typeMap = maps.mostProbableType()
            }
        }
        let instanceMap = try instances!.get()
        let records: [InstanceRecord]
        if let typeMap {
            records = try postProcessor.instanceRecords(labels: instanceMap, typeArgmax: typeMap.pixels)
        } else {
            records = try postProcessor.instanceRecords(labels: instanceMap)
        }
        // types.png: each nucleus's pixels carry its voted type, as HoVer-Net's type map. The
        // watershed's ids are its markers' component numbers, at most one per pixel.
        var typeOf = [UInt8](repeating: 0, count: Int(instanceMap.labels.max() ?? 0) + 1)
        for record in records { typeOf[Int(record.id)] = UInt8(clamping: record.type ?? 0) }
        var types = GrayImage<UInt8>(width: maps.width, height: maps.height)
        for (index, label) in instanceMap.labels.enumerated() where label != 0 {
            types.pixels[index] = typeOf[Int(label)]
        }
        let output = SegmentationOutput(
            image: image, instances: LabelMap(width: maps.width, height: maps.height, pixels: instanceMap.labels)!, types: types,
            nuclei: records.map(\.nucleus), classNames: maps.typeCount > 0 ? segmenter.info.classNames : [])
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return Result(output: output, records: records, inference: inference, postProcessingSeconds: seconds)
    }
}
