"""Sources of jixiao's Excel add-in, kept as text: the ribbon (customUI) and the VBA callbacks.

``jixiao addin build`` turns them, with xlwings' add-in template and the UDF module, into jixiao.xlam.
"""
