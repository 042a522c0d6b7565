Attribute VB_Name = "JixiaoRibbon"
' Ribbon callbacks of the jixiao add-in. Each button runs its own Python entry point
' in jixiao_macros.excel through xlwings' RunPython. Text here stays ASCII (code page 1252);
' the Chinese labels live in the ribbon XML.
Option Explicit

Private selectedProfile As String

Sub JxScore(control As IRibbonControl)
    RunPython "import jixiao_macros.excel as jx; jx.score()"
End Sub

Sub JxCheck(control As IRibbonControl)
    RunPython "import jixiao_macros.excel as jx; jx.check()"
End Sub

Sub JxProfile(control As IRibbonControl, id As String, index As Integer)
    selectedProfile = Array("hunan-dept-2024", "national-2020", "county-rubric-2022")(index)
End Sub

Sub JxNewForm(control As IRibbonControl)
    RunPython "import jixiao_macros.excel as jx; jx.new_form('" & control.Tag & "', '" & selectedProfile & "')"
End Sub

Sub JxHelp(control As IRibbonControl)
    RunPython "import jixiao_macros.excel as jx; jx.help()"
End Sub
