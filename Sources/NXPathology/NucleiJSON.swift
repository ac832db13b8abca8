/// `nuclei.json` in HoVer-Net's layout (`infer/base.py` `__save_json`, fields from
/// `models/hovernet/post_proc.py`):
///
///     {"mag": null, "nuc": {"1": {"bbox": [[rmin, cmin], [rmax, cmax]], "centroid": [x, y],
///      "contour": [[x, y], ...], "type_prob": 0.93, "type": 2}, ...}}
///
/// Keys are instance ids as strings, ascending; `bbox` ends are exclusive; `type` and
/// `type_prob` are null for a model without a type branch; `mag` is the magnification the
/// caller gives, or null. Separators are `json.dump`'s defaults.
public enum NucleiJSON {
    public static func encode(_ nuclei: [Nucleus], magnification: Double? = nil) throws -> [UInt8] {
        var json = JSONText()
        json.raw("{\"mag\": ")
        if let magnification { try json.number(magnification, field: "mag") } else { json.raw("null") }
        json.raw(", \"nuc\": {")
        for (index, nucleus) in try sortedByID(nuclei).enumerated() {
            if index > 0 { json.raw(", ") }
            json.string(String(nucleus.id))
            let box = nucleus.bbox
            json.raw(": {\"bbox\": [[\(box.rowMin), \(box.columnMin)], [\(box.rowMax), \(box.columnMax)]], \"centroid\": [")
            try json.number(nucleus.centroid.x, field: "nucleus \(nucleus.id) centroid x")
            json.raw(", ")
            try json.number(nucleus.centroid.y, field: "nucleus \(nucleus.id) centroid y")
            json.raw("], \"contour\": [")
            for (pointIndex, point) in nucleus.contour.enumerated() {
                json.raw(pointIndex == 0 ? "[" : ", [")
                json.raw("\(point.x), \(point.y)]")
            }
            json.raw("], \"type_prob\": ")
            if let probability = nucleus.typeProbability {
                try json.number(probability, field: "nucleus \(nucleus.id) type_prob")
            } else {
                json.raw("null")
            }
            json.raw(", \"type\": ")
            if let type = nucleus.type { json.int(type) } else { json.raw("null") }
            json.raw("}")
        }
        json.raw("}}")
        return json.bytes
    }

    /// Nuclei by ascending id; two with one id would silently merge in a JSON object.
    static func sortedByID(_ nuclei: [Nucleus]) throws -> [Nucleus] {
        let sorted = nuclei.sorted { $0.id < $1.id }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.id == b.id {
            throw JSONTextError(message: "nucleus id \(a.id) is used by two nuclei")
        }
        return sorted
    }
}
