"""What a period gives out: the year-end workbook (seven sheets, streamed, printable) and the statistics.

layout     the workbook's constants, columns, sheets and tallies
sheets     the seven sheets
workbook   writing and printing the workbook
statistics the figures of the statistics page
views      the workbook's download and the statistics page
"""
