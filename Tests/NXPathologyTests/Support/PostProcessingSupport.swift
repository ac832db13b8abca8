import Foundation
import NXFormat
import NXIR
import NXTestSupport
import Testing

@testable import NXPathology

/// One fixture case written by make_postprocessing_fixtures.py: the inputs, the reference's
/// labels and records, and (when saved with --stages) its intermediate maps.
struct PostProcessingCase {
    let name: String
    let directory: String
    let width: Int
    let height: Int
    let typeCount: Int
    let records: [[String: Any]]

    static let committedDirectory = "\(PythonTool.repositoryRoot)/Tests/Fixtures/postprocessing"

    init(directory: String, name: String) throws {
        self.name = name
        self.directory = "\(directory)/\(name)"
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(self.directory)/records.json"))
        let info = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        width = try #require(info["width"] as? Int)
        height = try #require(info["height"] as? Int)
        typeCount = try #require(info["type_count"] as? Int)
        records = try #require(info["records"] as? [[String: Any]])
    }

    func has(_ file: String) -> Bool { FileManager.default.fileExists(atPath: "\(directory)/\(file)") }
    func tensor(_ file: String) throws -> Tensor { try Npy.read(path: "\(directory)/\(file)") }
    func floats(_ file: String) throws -> [Float] { try tensor(file).scalars(as: Float.self) }
    func doubles(_ file: String) throws -> [Double] { try tensor(file).scalars(as: Double.self) }
    func int32s(_ file: String) throws -> [Int32] { try tensor(file).scalars(as: Int32.self) }
    func bytes(_ file: String) throws -> [UInt8] { try tensor(file).scalars(as: UInt8.self) }
}

/// The acceptance checks of a Swift result against a reference case.
enum PostProcessingComparison {
    /// Per-instance IoU after matching each reference instance to the Swift instance it
    /// overlaps most, plus the exact-label check; returns the matching (reference id -> ours).
    @discardableResult
    static func compareLabels(_ ours: InstanceMap, _ reference: [Int32], _ what: String) -> [Int32: Int32] {
        #expect(ours.labels.count == reference.count, "\(what): label count")
        let referenceIDs = Set(reference).subtracting([0])
        #expect(ours.instanceCount == referenceIDs.count, "\(what): instance count \(ours.instanceCount) vs \(referenceIDs.count)")
        var overlap: [Int32: [Int32: Int]] = [:]
        var areaOurs: [Int32: Int] = [:], areaReference: [Int32: Int] = [:]
        for (a, b) in zip(ours.labels, reference) {
            if a != 0 { areaOurs[a, default: 0] += 1 }
            if b != 0 { areaReference[b, default: 0] += 1 }
            if a != 0 && b != 0 { overlap[b, default: [:]][a, default: 0] += 1 }
        }
        var matching: [Int32: Int32] = [:]
        for id in referenceIDs.sorted() {
            guard let (best, shared) = overlap[id]?.max(by: { ($0.value, $1.key) < ($1.value, $0.key) }) else {
                Issue.record("\(what): reference instance \(id) has no counterpart")
                continue
            }
            let union = areaOurs[best]! + areaReference[id]! - shared
            let iou = Double(shared) / Double(union)
            #expect(iou >= 0.99, "\(what): instance \(id) IoU \(iou)")
            matching[id] = best
        }
        #expect(Set(matching.values).count == matching.count, "\(what): two reference instances matched one of ours")
        // Stronger than the acceptance criterion: the ids and every pixel agree.
        let differing = zip(ours.labels, reference).filter { $0 != $1 }.count
        #expect(differing == 0, "\(what): \(differing) pixels carry a different label")
        return matching
    }

    /// Records: same instances (after matching), bboxes equal, centroids within 1e-3 px,
    /// identical types and contours, type probabilities equal to 1e-12.
    static func compareRecords(
        _ ours: [InstanceRecord], _ reference: [[String: Any]], matching: [Int32: Int32], typed: Bool, _ what: String
    ) throws {
        #expect(ours.count == reference.count, "\(what): record count \(ours.count) vs \(reference.count)")
        let byID = Dictionary(uniqueKeysWithValues: ours.map { ($0.id, $0) })
        for expected in reference {
            let referenceID = Int32(try #require(expected["id"] as? Int))
            guard let id = matching[referenceID], let record = byID[id] else {
                Issue.record("\(what): no record for reference instance \(referenceID)")
                continue
            }
            let bbox = try #require(expected["bbox"] as? [[Int]])
            #expect(
                record.boundingBox
                    == InstanceBoundingBox(rowMin: bbox[0][0], columnMin: bbox[0][1], rowMax: bbox[1][0], columnMax: bbox[1][1]),
                "\(what): instance \(referenceID) bbox")
            let centroid = try #require(expected["centroid"] as? [Double])
            #expect(abs(record.centroid.x - centroid[0]) <= 1e-3 && abs(record.centroid.y - centroid[1]) <= 1e-3,
                "\(what): instance \(referenceID) centroid \(record.centroid) vs \(centroid)")
            // Foundation's JSON numbers are not always correctly rounded; the hex spelling is.
            let exact = try #require(expected["centroid_hex"] as? [String]).compactMap(Double.init)
            #expect(exact.count == 2 && record.centroid == SIMD2(exact[0], exact[1]), "\(what): instance \(referenceID) centroid not bit-equal")
            #expect(record.pixelCount == (expected["pixel_count"] as? Int), "\(what): instance \(referenceID) pixel count")
            let contour = try #require(expected["contour"] as? [[Int]]).map { SIMD2(Int32($0[0]), Int32($0[1])) }
            #expect(record.contour == contour, "\(what): instance \(referenceID) contour")
            if typed {
                #expect(record.type == (expected["type"] as? Int), "\(what): instance \(referenceID) type")
                let probability = try #require(expected["type_prob"] as? Double)
                #expect(abs((record.typeProbability ?? -1) - probability) <= 1e-12, "\(what): instance \(referenceID) type_prob")
            } else {
                #expect(record.type == nil && record.typeProbability == nil)
            }
        }
    }
}
