Attribute VB_Name = "JixiaoRibbon"
' Ribbon callbacks of the jixiao add-in. Each button runs its own Python entry point
' in jixiao_macros.excel through xlwings' RunPython. Text here stays ASCII (code page 1252);
' the Chinese labels live in the ribbon XML, the Chinese messages in the generated module
' JixiaoText (JxMsg... functions, written from addin/__init__.py).
Option Explicit

' The profile chosen in the dropDown, for this Excel session. Kept in memory, not in the registry:
' a registry write would be the module's only write, and virus scanners flag one (docs/addin.md).
Private chosenProfile As String

Private Function JxProfileIds() As Variant
    ' The items of the dropDown jxProfile in ribbon.xml, in the same order.
    ' "" (the first item) = each form's own default profile.
    JxProfileIds = Array("", "hunan-dept-2024", "national-2020", "county-rubric-2022")
End Function

Private Function JxSelectedProfile() As String
    ' The profile chosen in the dropDown in this session; "" = each form's own default.
    JxSelectedProfile = chosenProfile
End Function

Private Function JxReady() As Boolean
    ' RunPython reads the active workbook: without one it stops with error 91. Say why instead.
    If ActiveWorkbook Is Nothing Then
        MsgBox JxMsgNoBook(), vbExclamation, JxMsgTitle()
        JxReady = False
    Else
        JxReady = True
    End If
End Function

Sub JxScore(control As IRibbonControl)
    If Not JxReady() Then Exit Sub
    Application.StatusBar = False
    RunPython "import jixiao_macros.excel as jx; jx.score()"
End Sub

Sub JxCheck(control As IRibbonControl)
    If Not JxReady() Then Exit Sub
    Application.StatusBar = False
    RunPython "import jixiao_macros.excel as jx; jx.check()"
End Sub

Sub JxReport(control As IRibbonControl)
    ' The report goes next to the workbook. Python asks Excel for the workbook's path (xw.Book.caller):
    ' the Python command below is a constant, never built from a name or a cell of the workbook.
    If Not JxReady() Then Exit Sub
    Application.StatusBar = False
    RunPython "import jixiao_macros.excel as jx; jx.report()"
End Sub

Sub JxProfile(control As IRibbonControl, id As String, index As Integer)
    ' onAction of the dropDown: remember the choice.
    Dim ids As Variant
    ids = JxProfileIds()
    If index >= LBound(ids) And index <= UBound(ids) Then chosenProfile = ids(index)
End Sub

Sub JxProfileIndex(control As IRibbonControl, ByRef index)
    ' getSelectedItemIndex of the dropDown: the remembered choice, else the first item (each form's default).
    Dim ids As Variant, i As Integer, chosen As String
    ids = JxProfileIds()
    chosen = JxSelectedProfile()
    index = 0
    For i = LBound(ids) To UBound(ids)
        If ids(i) = chosen Then index = i
    Next i
End Sub

Sub JxNewForm(control As IRibbonControl)
    If Not JxReady() Then Exit Sub
    RunPython "import jixiao_macros.excel as jx; jx.new_form('" & control.Tag & "', '" & JxSelectedProfile() & "')"
End Sub

Sub JxHelp(control As IRibbonControl)
    If Not JxReady() Then Exit Sub
    RunPython "import jixiao_macros.excel as jx; jx.help()"
End Sub
