/// `nuclei.geojson`: a GeoJSON FeatureCollection with one Polygon per nucleus, which QuPath
/// imports as detections (File > Import objects, or drag and drop):
///
///     {"type": "FeatureCollection", "features": [{"type": "Feature",
///      "geometry": {"type": "Polygon", "coordinates": [[[x, y], ..., [x0, y0]]]},
///      "properties": {"objectType": "detection",
///                     "classification": {"name": "neoplastic", "color": [255, 0, 0]}}}, ...]}
///
/// Coordinates are the contour's pixel coordinates, as in `nuclei.json`. Rings are closed
/// (the first point repeated at the end), as GeoJSON requires. A contour with fewer than
/// three distinct points cannot be a polygon; such a nucleus gets its bounding box outline
/// (pixel corners (cmin, rmin) to (cmax, rmax)) so that it is still imported. Nuclei without a
/// type have no classification.
public enum NucleiGeoJSON {
    public static func encode(_ nuclei: [Nucleus], classNames: [String]) throws -> [UInt8] {
        var json = JSONText()
        json.raw("{\"type\": \"FeatureCollection\", \"features\": [")
        for (index, nucleus) in try NucleiJSON.sortedByID(nuclei).enumerated() {
            if index > 0 { json.raw(", ") }
            json.raw("{\"type\": \"Feature\", \"geometry\": {\"type\": \"Polygon\", \"coordinates\": [[")
            for (pointIndex, point) in ring(nucleus).enumerated() {
                json.raw(pointIndex == 0 ? "[" : ", [")
                json.raw("\(point.x), \(point.y)]")
            }
            json.raw("]]}, \"properties\": {\"objectType\": \"detection\"")
            if let type = nucleus.type {
                let color = ClassPalette.color(forType: type)
                json.raw(", \"classification\": {\"name\": ")
                json.string(ClassPalette.name(forType: type, classNames: classNames))
                json.raw(", \"color\": [\(color.0), \(color.1), \(color.2)]}")
            }
            json.raw("}}")
        }
        json.raw("]}")
        return json.bytes
    }

    /// The closed ring for `nucleus`: its contour plus the first point again, or its bounding
    /// box when the contour is degenerate.
    static func ring(_ nucleus: Nucleus) -> [Nucleus.Point] {
        if Set(nucleus.contour).count >= 3 { return nucleus.contour + [nucleus.contour[0]] }
        let box = nucleus.bbox
        return [
            .init(x: box.columnMin, y: box.rowMin), .init(x: box.columnMax, y: box.rowMin),
            .init(x: box.columnMax, y: box.rowMax), .init(x: box.columnMin, y: box.rowMax),
            .init(x: box.columnMin, y: box.rowMin),
        ]
    }
}
