import ArgumentParser
import Foundation
import NXFormat
import NXIR
import NXPathology

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score predicted nuclei against ground truth: DICE, AJI, AJI+, DQ, SQ, PQ; detection and type F1; PanNuke bPQ/mPQ.",
        discussion: """
            Instance maps are 16-bit PNGs (as nx segment writes instances.png) or integer .npy files; \
            --true and --pred each take a file or a folder whose files are matched by name (extension ignored). \
            With --true-types/--pred-types (type maps: types.png or .npy), nuclei are typed by majority vote and \
            detection/type F1 are computed by 12-pixel centroid pairing. --dataset pannuke takes .npy maps of \
            shape [H, W, C] (PanNuke's per-class instance channels, the last channel background) instead.
            """)

    @Option(name: .customLong("true"), help: "Ground-truth instance map(s): file or folder.") var truth: String
    @Option(name: .customLong("pred"), help: "Predicted instance map(s): file or folder.") var prediction: String
    @Option(help: "Ground-truth type map(s), matched like --true.") var trueTypes: String?
    @Option(help: "Predicted type map(s), matched like --pred.") var predTypes: String?
    @Option(help: "generic, consep (merges CoNSeP's 7 truth classes into its 4) or pannuke.") var dataset = "generic"
    @Flag(help: "Print the whole report as JSON (every number at full precision).") var json = false

    func run() throws {
        try reportingErrors {
            guard ["generic", "consep", "pannuke"].contains(dataset) else {
                throw ValidationError("--dataset must be generic, consep or pannuke, got '\(dataset)'")
            }
            let pairs = try LabelFiles.pair(truth, prediction)
            var evaluation = Evaluation()
            for (name, truthPath, predictionPath) in pairs {
                if dataset == "pannuke" {
                    let truthMaps = try LabelFiles.classMaps(truthPath), predictedMaps = try LabelFiles.classMaps(predictionPath)
                    try evaluation.addPanNuke(image: name, truth: truthMaps, prediction: predictedMaps)
                    continue
                }
                let truthMap = try LabelFiles.instanceMap(truthPath)
                let predictedMap = try LabelFiles.instanceMap(predictionPath)
                guard truthMap.width == predictedMap.width, truthMap.height == predictedMap.height else {
                    throw ValidationError("\(name): truth is \(truthMap.width)x\(truthMap.height), prediction \(predictedMap.width)x\(predictedMap.height)")
                }
                try evaluation.addSegmentation(image: name, truth: truthMap, prediction: predictedMap)
                if let trueTypes, let predTypes {
                    let truthTypes = try LabelFiles.typeMap(LabelFiles.match(name, in: trueTypes), merge: dataset == "consep")
                    let predictedTypes = try LabelFiles.typeMap(LabelFiles.match(name, in: predTypes), merge: false)
                    let processor = PostProcessor()
                    try evaluation.addClassification(
                        image: name, truth: processor.instanceRecords(labels: truthMap, typeArgmax: truthTypes),
                        prediction: processor.instanceRecords(labels: predictedMap, typeArgmax: predictedTypes))
                }
            }
            let report = evaluation.report()
            if json {
                print(String(decoding: try report.jsonData(), as: UTF8.self))
                return
            }
            printReport(report, images: pairs.count)
        }
    }

    private func printReport(_ report: EvaluationReport, images: Int) {
        func format(_ value: MetricValue) -> String { value.value.isNaN ? "  n/a " : String(format: "%.4f", value.value) }
        if let segmentation = report.segmentation {
            print("image                               DICE    AJI     AJI+    DQ      SQ      PQ")
            for image in segmentation.images {
                let s = image.scores
                print("\(image.image.padding(toLength: 34, withPad: " ", startingAt: 0))  \(format(s.dice))  \(format(s.aji))  \(format(s.ajiPlus))  \(format(s.dq))  \(format(s.sq))  \(format(s.pq))")
            }
            let m = segmentation.mean
            print("mean (\(images) images)".padding(toLength: 34, withPad: " ", startingAt: 0)
                + "  \(format(m.dice))  \(format(m.aji))  \(format(m.ajiPlus))  \(format(m.dq))  \(format(m.sq))  \(format(m.pq))")
        }
        if let classification = report.classification {
            print("detection F1 \(format(classification.f1Detection)) (\(classification.matched) paired, \(classification.falsePositives) false positives, \(classification.falseNegatives) missed); type accuracy \(format(classification.accuracy))")
            for entry in classification.types { print("  type \(entry.type) F1 \(format(entry.f1))") }
        }
        if let panNuke = report.panNuke {
            print("PanNuke: bPQ \(format(panNuke.binaryPQ)), mPQ \(format(panNuke.multiClassPQ))")
            for (index, value) in panNuke.classPQ.enumerated() {
                print("  \(panNuke.classNames?[safe: index] ?? "class \(index + 1)") PQ \(format(value))")
            }
        }
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}

/// Reads label and type maps for `nx evaluate` from PNG or .npy, singly or by folder.
enum LabelFiles {
    static let extensions = ["png", "npy"]

    /// (image name, truth file, prediction file): one pair for two files, or every name the
    /// two folders share (a name in only one of them is an error, so nothing is dropped).
    static func pair(_ truth: String, _ prediction: String) throws -> [(String, String, String)] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: truth, isDirectory: &isFolder) else { throw ValidationError("\(truth): no such file or folder") }
        guard isFolder.boolValue else {
            return [(((truth as NSString).lastPathComponent as NSString).deletingPathExtension, truth, prediction)]
        }
        let truthFiles = try files(in: truth), predictionFiles = try files(in: prediction)
        let missing = Set(truthFiles.keys).symmetricDifference(predictionFiles.keys)
        guard missing.isEmpty else {
            throw ValidationError("\(truth) and \(prediction) do not hold the same names; unmatched: \(missing.sorted().prefix(5).joined(separator: ", "))")
        }
        guard !truthFiles.isEmpty else { throw ValidationError("\(truth): no .png or .npy files") }
        return truthFiles.keys.sorted().map { ($0, truthFiles[$0]!, predictionFiles[$0]!) }
    }

    static func files(in folder: String) throws -> [String: String] {
        var result: [String: String] = [:]
        for file in try FileManager.default.contentsOfDirectory(atPath: folder) where extensions.contains((file as NSString).pathExtension.lowercased()) {
            result[(file as NSString).deletingPathExtension] = (folder as NSString).appendingPathComponent(file)
        }
        return result
    }

    static func match(_ name: String, in location: String) throws -> String {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: location, isDirectory: &isFolder) else { throw ValidationError("\(location): no such file or folder") }
        guard isFolder.boolValue else { return location }
        guard let path = try files(in: location)[name] else { throw ValidationError("\(location): no type map named \(name)") }
        return path
    }

    static func labels(_ path: String) throws -> (width: Int, height: Int, values: [Int]) {
        if path.lowercased().hasSuffix(".npy") {
            let tensor = try Npy.read(path: path)
            guard tensor.rank == 2 else { throw ValidationError("\(path): expected a 2-D [H, W] map, got shape \(tensor.shape)") }
            return (tensor.shape[1], tensor.shape[0], try tensor.intValues())
        }
        let map = try PNGImage.readLabelMap(path: path)
        return (map.width, map.height, map.pixels.map(Int.init))
    }

    static func instanceMap(_ path: String) throws -> InstanceMap {
        let (width, height, values) = try labels(path)
        guard values.allSatisfy({ $0 >= 0 && $0 <= Int(Int32.max) }) else { throw ValidationError("\(path): labels must be non-negative") }
        return try InstanceMap(width: width, height: height, labels: values.map { Int32($0) })
    }

    /// Per-pixel types; CoNSeP's truth merges 3 and 4 (epithelial) and 5, 6, 7 (spindle), as
    /// HoVer-Net evaluates it.
    static func typeMap(_ path: String, merge: Bool) throws -> [Int32] {
        try labels(path).values.map { value in
            guard merge else { return Int32(value) }
            return Int32(value == 4 ? 3 : value >= 5 ? 4 : value)
        }
    }

    /// PanNuke's [H, W, C] per-class instance maps (last channel background, dropped).
    static func classMaps(_ path: String) throws -> [InstanceMap] {
        let tensor = try Npy.read(path: path)
        guard tensor.rank == 3, tensor.shape[2] >= 2 else {
            throw ValidationError("\(path): expected PanNuke's [H, W, C] class maps, got shape \(tensor.shape)")
        }
        let (height, width, channels) = (tensor.shape[0], tensor.shape[1], tensor.shape[2])
        let values = try tensor.floatValues()
        return try (0..<(channels - 1)).map { channel in
            try InstanceMap(width: width, height: height, labels: (0..<(height * width)).map { Int32(values[$0 * channels + channel]) })
        }
    }
}
