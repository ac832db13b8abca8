/// Draws nucleus contours on the input image, coloured by type (`ClassPalette`), and a legend
/// of the model's class names with the number of nuclei of each, for `overlay.png`.
///
/// The legend goes in a white panel *below* the image rather than over it, so no tissue is
/// hidden and the image keeps its pixel coordinates at the top-left; the canvas is widened
/// (white) when the legend is wider than the image. Contours are 1-pixel closed polylines
/// through the contour points (as HoVer-Net's `cv2.drawContours(..., thickness=1)`).
public enum OverlayRenderer {
    public static func render(image: RGBImage, nuclei: [Nucleus], classNames: [String]) -> RGBImage {
        let entries = legendEntries(nuclei: nuclei, classNames: classNames)
        // Text twice as large on big images, so the legend stays readable when zoomed out.
        let scale = max(image.width, image.height) >= 1200 ? 2 : 1
        let margin = 4 * scale, swatch = BitmapFont.glyphHeight * scale, line = swatch + 4 * scale
        let legendWidth = entries.map { margin + swatch + 3 * scale + BitmapFont.width(of: $0.text, scale: scale) + margin }.max() ?? 0
        let legendHeight = entries.isEmpty ? 0 : margin + entries.count * line - 4 * scale + margin

        var canvas = RGBImage(width: max(image.width, legendWidth), height: image.height + legendHeight, filling: (255, 255, 255))
        for y in 0..<image.height {
            let source = y * image.width * 3
            let target = y * canvas.width * 3
            canvas.pixels.replaceSubrange(target..<(target + image.width * 3), with: image.pixels[source..<(source + image.width * 3)])
        }
        for nucleus in nuclei {
            drawContour(nucleus.contour, color: ClassPalette.color(forType: nucleus.type), into: &canvas, clipHeight: image.height)
        }
        // A thin gray rule separates the image from the legend.
        if legendHeight > 0 { canvas.fillRect(x: 0, y: image.height, width: canvas.width, height: 1, color: (128, 128, 128)) }
        for (row, entry) in entries.enumerated() {
            let top = image.height + margin + row * line
            canvas.fillRect(x: margin, y: top, width: swatch, height: swatch, color: entry.color)
            BitmapFont.draw(entry.text, into: &canvas, x: margin + swatch + 3 * scale, y: top, scale: scale, color: (0, 0, 0))
        }
        return canvas
    }

    /// One legend line per class (background only when some nucleus has type 0), plus one for
    /// nuclei without a type; each reads "name: count".
    static func legendEntries(nuclei: [Nucleus], classNames: [String]) -> [(text: String, color: (UInt8, UInt8, UInt8))] {
        var counts: [Int: Int] = [:]
        var untyped = 0
        for nucleus in nuclei {
            if let type = nucleus.type { counts[type, default: 0] += 1 } else { untyped += 1 }
        }
        var types = Array(classNames.indices.dropFirst())
        types += counts.keys.filter { $0 == 0 || $0 >= classNames.count }.sorted()
        var entries = types.sorted().map { type in
            ("\(ClassPalette.name(forType: type, classNames: classNames)): \(counts[type] ?? 0)", ClassPalette.color(forType: type))
        }
        if untyped > 0 || classNames.isEmpty { entries.append(("nuclei: \(untyped)", ClassPalette.untyped)) }
        return entries
    }

    /// Closed polyline through `points` (Bresenham), clipped to the image rows.
    static func drawContour(_ points: [Nucleus.Point], color: (UInt8, UInt8, UInt8), into canvas: inout RGBImage, clipHeight: Int) {
        guard let first = points.first else { return }
        func plot(_ x: Int, _ y: Int) {
            guard x >= 0, y >= 0, x < canvas.width, y < clipHeight else { return }
            let index = (y * canvas.width + x) * 3
            canvas.pixels[index] = color.0
            canvas.pixels[index + 1] = color.1
            canvas.pixels[index + 2] = color.2
        }
        if points.count == 1 { plot(first.x, first.y) }
        for (index, start) in points.enumerated() {
            let end = points[(index + 1) % points.count]
            var x = start.x, y = start.y
            let dx = abs(end.x - x), dy = -abs(end.y - y)
            let sx = x < end.x ? 1 : -1, sy = y < end.y ? 1 : -1
            var error = dx + dy
            while true {
                plot(x, y)
                if x == end.x && y == end.y { break }
                let twice = 2 * error
                if twice >= dy { error += dy; x += sx }
                if twice <= dx { error += dx; y += sy }
            }
        }
    }
}
