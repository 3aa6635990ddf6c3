; mCONNECT Hub setup for Windows (NSIS 3, 64-bit). Built by scripts/dist.sh:
;   makensis -DVERSION=1.2.3 -DVERSION4=1.2.3.0 -DEXE=path\mconnect.exe
;            -DICON=assets\mconnect.ico -DOUTFILE=dist\mconnect-setup-1.2.3.exe mconnect.nsi
;
; Install modes: for the current user (default, no administrator rights, into
; %LOCALAPPDATA%\Programs\mCONNECT Hub) or for all users (/ALLUSERS, or the
; choice on the first page when run as administrator; into Program Files).
; An upgrade keeps the mode and folder of the installed version.
;
; Command line (for IT): /S silent; /ALLUSERS or /CURRENTUSER; /AUTOSTART=1|0
; (default: on for a new installation, unchanged on an upgrade); /D=folder
; (last, unquoted). Exit codes: 0 installed, 1 cancelled, 2 aborted,
; 3 a newer version is installed, 4 mCONNECT Hub is running,
; 5 /ALLUSERS without administrator rights.
;
; The uninstaller keeps the settings and data folders unless "Also remove
; settings and data" is ticked, or /PURGE is given with /S.
; Settings, keyring entries and data live outside the program folder
; (%APPDATA%\mconnect, Credential Manager, %LOCALAPPDATA%\mCONNECT Hub), so an
; upgrade never touches them.

Unicode true
Target amd64-unicode
ManifestDPIAware true
SetCompressor /SOLID lzma

!ifndef VERSION | VERSION4 | EXE | ICON | OUTFILE
  !error "define VERSION, VERSION4, EXE, ICON and OUTFILE (see the top of this file)"
!endif

; The uninstaller is written at build time: sign it then, like the setup.
!ifdef SIGN_CMD
  !uninstfinalize '"${SIGN_CMD}" "%1"'
!endif

!define APP "mCONNECT Hub"
!define PUBLISHER "MESI d.o.o."
!define UNINST_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\mCONNECT Hub"
!define RUN_KEY "Software\Microsoft\Windows\CurrentVersion\Run"

!include MUI2.nsh
!include LogicLib.nsh
!include FileFunc.nsh
!include WordFunc.nsh
!include nsDialogs.nsh

Name "${APP}"
OutFile "${OUTFILE}"
RequestExecutionLevel user
InstallDir "$LOCALAPPDATA\Programs\${APP}"
BrandingText "${APP} ${VERSION}"

VIProductVersion "${VERSION4}"
VIFileVersion "${VERSION4}"
VIAddVersionKey "ProductName" "${APP}"
VIAddVersionKey "ProductVersion" "${VERSION}"
VIAddVersionKey "FileVersion" "${VERSION}"
VIAddVersionKey "FileDescription" "${APP} setup"
VIAddVersionKey "CompanyName" "${PUBLISHER}"
VIAddVersionKey "LegalCopyright" "${PUBLISHER}"

Var AllUsers      ; 1: per machine (HKLM, Program Files), 0: per user
Var Upgrade       ; the installed version, "" when none
Var Autostart     ; 1 or 0
Var AutostartSet  ; 1 when /AUTOSTART= was given
Var ModeAll       ; radio buttons of the mode page
Var ModeMe
Var AutoBox
Var Purge         ; uninstaller: 1 removes settings and data
Var PurgeBox

!define MUI_ICON "${ICON}"
!define MUI_UNICON "${ICON}"
!define MUI_ABORTWARNING
!define MUI_FINISHPAGE_RUN "$INSTDIR\mconnect.exe"
!define MUI_FINISHPAGE_RUN_TEXT "Start ${APP} now"

Page custom ModePage ModePageLeave
!define MUI_PAGE_CUSTOMFUNCTION_PRE DirectoryPre
!insertmacro MUI_PAGE_DIRECTORY
Page custom OptionsPage OptionsPageLeave
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH

UninstPage custom un.OptionsPage un.OptionsPageLeave
!insertmacro MUI_UNPAGE_INSTFILES

!insertmacro MUI_LANGUAGE "English"

; SetMode selects the registry root, shell folders and default folder of
; $AllUsers.
!macro SetMode
  ${If} $AllUsers == 1
    SetShellVarContext all
  ${Else}
    SetShellVarContext current
  ${EndIf}
!macroend

Function .onInit
  SetRegView 64
  StrCpy $AllUsers 0
  StrCpy $Autostart 1
  StrCpy $AutostartSet 0

  ; The installed version, per machine first.
  ReadRegStr $Upgrade HKLM "${UNINST_KEY}" "DisplayVersion"
  ${If} $Upgrade != ""
    StrCpy $AllUsers 1
    ReadRegStr $0 HKLM "${UNINST_KEY}" "InstallLocation"
  ${Else}
    ReadRegStr $Upgrade HKCU "${UNINST_KEY}" "DisplayVersion"
    ReadRegStr $0 HKCU "${UNINST_KEY}" "InstallLocation"
  ${EndIf}

  ${GetParameters} $R0
  ClearErrors
  ${GetOptions} $R0 "/ALLUSERS" $1
  ${IfNot} ${Errors}
    StrCpy $AllUsers 1
  ${EndIf}
  ClearErrors
  ${GetOptions} $R0 "/CURRENTUSER" $1
  ${IfNot} ${Errors}
    StrCpy $AllUsers 0
  ${EndIf}
  ClearErrors
  ${GetOptions} $R0 "/AUTOSTART=" $1
  ${IfNot} ${Errors}
    StrCpy $AutostartSet 1
    ${If} $1 == 0
      StrCpy $Autostart 0
    ${EndIf}
  ${EndIf}

  ; Never replace a newer version: its data may already have been migrated.
  ${If} $Upgrade != ""
    ${VersionCompare} "$Upgrade" "${VERSION}" $1
    ${If} $1 == 1
      MessageBox MB_OK|MB_ICONSTOP "${APP} $Upgrade is installed, which is newer than this setup (${VERSION}).$\r$\n$\r$\nNothing was changed. To go back to ${VERSION}, uninstall ${APP} $Upgrade first (your settings and data are kept)." /SD IDOK
      SetErrorLevel 3
      Quit
    ${EndIf}
    ; An upgrade keeps the folder and the autostart choice.
    ${If} $0 != ""
      StrCpy $INSTDIR $0
    ${EndIf}
    ${If} $AutostartSet == 0
      ReadRegStr $1 HKCU "${RUN_KEY}" "${APP}"
      ${If} $1 == ""
        StrCpy $Autostart 0
      ${EndIf}
    ${EndIf}
  ${EndIf}

  ${If} $AllUsers == 1
    UserInfo::GetAccountType
    Pop $1
    ${If} $1 != "Admin"
      MessageBox MB_OK|MB_ICONSTOP "Installing ${APP} for all users needs administrator rights.$\r$\n$\r$\nStart the setup with right-click, $\"Run as administrator$\", or install it for yourself only (without /ALLUSERS)." /SD IDOK
      SetErrorLevel 5
      Quit
    ${EndIf}
    ${If} $Upgrade == ""
    ${OrIf} $0 == ""
      StrCpy $INSTDIR "$PROGRAMFILES64\${APP}"
    ${EndIf}
  ${EndIf}
  !insertmacro SetMode
FunctionEnd

; ModePage asks "for me or for everyone" only when that is a choice: run as
; administrator, with no installed version and no switch on the command line.
Function ModePage
  ${If} $Upgrade != ""
    Abort
  ${EndIf}
  ${GetParameters} $R0
  ClearErrors
  ${GetOptions} $R0 "/ALLUSERS" $1
  ${IfNot} ${Errors}
    Abort
  ${EndIf}
  ClearErrors
  ${GetOptions} $R0 "/CURRENTUSER" $1
  ${IfNot} ${Errors}
    Abort
  ${EndIf}
  UserInfo::GetAccountType
  Pop $1
  ${If} $1 != "Admin"
    Abort
  ${EndIf}
  !insertmacro MUI_HEADER_TEXT "Who uses ${APP}?" "Install it for yourself or for everyone who signs in to this PC."
  nsDialogs::Create 1018
  Pop $1
  ${NSD_CreateRadioButton} 0 10u 100% 12u "Only for me (recommended: the hub runs as the user who set it up)"
  Pop $ModeMe
  ${NSD_CreateRadioButton} 0 30u 100% 12u "For everyone who uses this PC (into Program Files)"
  Pop $ModeAll
  ${If} $AllUsers == 1
    ${NSD_Check} $ModeAll
  ${Else}
    ${NSD_Check} $ModeMe
  ${EndIf}
  nsDialogs::Show
FunctionEnd

Function ModePageLeave
  ${NSD_GetState} $ModeAll $1
  ${If} $1 == ${BST_CHECKED}
    ${If} $AllUsers == 0
      StrCpy $INSTDIR "$PROGRAMFILES64\${APP}"
    ${EndIf}
    StrCpy $AllUsers 1
  ${Else}
    ${If} $AllUsers == 1
      StrCpy $INSTDIR "$LOCALAPPDATA\Programs\${APP}"
    ${EndIf}
    StrCpy $AllUsers 0
  ${EndIf}
  !insertmacro SetMode
FunctionEnd

; An upgrade goes into the installed folder: no folder page.
Function DirectoryPre
  ${If} $Upgrade != ""
    Abort
  ${EndIf}
FunctionEnd

Function OptionsPage
  !insertmacro MUI_HEADER_TEXT "Options" "How ${APP} starts."
  nsDialogs::Create 1018
  Pop $1
  ${NSD_CreateCheckbox} 0 10u 100% 12u "Start ${APP} when I sign in to Windows (recommended)"
  Pop $AutoBox
  ${If} $Autostart == 1
    ${NSD_Check} $AutoBox
  ${EndIf}
  ${If} $Upgrade != ""
    ${NSD_CreateLabel} 0 40u 100% 24u "${APP} $Upgrade will be updated to ${VERSION}. Your settings, passwords and data are kept."
    Pop $1
  ${EndIf}
  nsDialogs::Show
FunctionEnd

Function OptionsPageLeave
  ${NSD_GetState} $AutoBox $1
  ${If} $1 == ${BST_CHECKED}
    StrCpy $Autostart 1
  ${Else}
    StrCpy $Autostart 0
  ${EndIf}
FunctionEnd

Section "Install"
  SetOutPath "$INSTDIR"
  ; A running hub holds mconnect.exe open: ask to quit it rather than
  ; leaving a half-updated folder.
  ${If} ${FileExists} "$INSTDIR\mconnect.exe"
    retry:
    ClearErrors
    FileOpen $1 "$INSTDIR\mconnect.exe" a
    ${If} ${Errors}
      MessageBox MB_RETRYCANCEL|MB_ICONEXCLAMATION "${APP} is running.$\r$\n$\r$\nQuit it (right-click the tray icon, then Quit) and click Retry." /SD IDCANCEL IDRETRY retry
      SetErrorLevel 4
      Quit
    ${EndIf}
    FileClose $1
  ${EndIf}

  File "/oname=mconnect.exe" "${EXE}"
  WriteUninstaller "$INSTDIR\uninstall.exe"
  CreateShortcut "$SMPROGRAMS\${APP}.lnk" "$INSTDIR\mconnect.exe" "" "$INSTDIR\mconnect.exe" 0 SW_SHOWNORMAL "" "Connects the practice software with MESI mTABLET tablets"

  ${If} $Autostart == 1
    WriteRegStr HKCU "${RUN_KEY}" "${APP}" '"$INSTDIR\mconnect.exe"'
  ${Else}
    DeleteRegValue HKCU "${RUN_KEY}" "${APP}"
  ${EndIf}

  WriteRegStr SHCTX "${UNINST_KEY}" "DisplayName" "${APP}"
  WriteRegStr SHCTX "${UNINST_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr SHCTX "${UNINST_KEY}" "Publisher" "${PUBLISHER}"
  WriteRegStr SHCTX "${UNINST_KEY}" "DisplayIcon" "$INSTDIR\mconnect.exe,0"
  WriteRegStr SHCTX "${UNINST_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr SHCTX "${UNINST_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr SHCTX "${UNINST_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD SHCTX "${UNINST_KEY}" "NoModify" 1
  WriteRegDWORD SHCTX "${UNINST_KEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $1 $2 $3
  IntFmt $1 "0x%08X" $1
  WriteRegDWORD SHCTX "${UNINST_KEY}" "EstimatedSize" $1
SectionEnd

Function un.onInit
  SetRegView 64
  StrCpy $Purge 0
  ${GetParameters} $R0
  ClearErrors
  ${GetOptions} $R0 "/PURGE" $1
  ${IfNot} ${Errors}
    StrCpy $Purge 1
  ${EndIf}
  ; Installed for all users when the machine's key points at this folder.
  StrCpy $AllUsers 0
  ReadRegStr $1 HKLM "${UNINST_KEY}" "InstallLocation"
  ${If} $1 == $INSTDIR
    StrCpy $AllUsers 1
    UserInfo::GetAccountType
    Pop $1
    ${If} $1 != "Admin"
      MessageBox MB_OK|MB_ICONSTOP "${APP} is installed for all users: removing it needs administrator rights." /SD IDOK
      SetErrorLevel 5
      Quit
    ${EndIf}
  ${EndIf}
  !insertmacro SetMode
FunctionEnd

Function un.OptionsPage
  !insertmacro MUI_HEADER_TEXT "Remove ${APP}" "The program is removed; your settings and data are kept unless you tick the box."
  nsDialogs::Create 1018
  Pop $1
  ${NSD_CreateCheckbox} 0 10u 100% 12u "Also remove my settings and data (orders, results waiting for the EHR, logs)"
  Pop $PurgeBox
  ${NSD_CreateLabel} 0 30u 100% 36u "Kept folders: $APPDATA\mconnect and $LOCALAPPDATA\${APP}. Passwords stay in the Windows Credential Manager until removed there."
  Pop $1
  nsDialogs::Show
FunctionEnd

Function un.OptionsPageLeave
  ${NSD_GetState} $PurgeBox $1
  ${If} $1 == ${BST_CHECKED}
    StrCpy $Purge 1
  ${EndIf}
FunctionEnd

Section "Uninstall"
  retry:
  ClearErrors
  ${If} ${FileExists} "$INSTDIR\mconnect.exe"
    Delete "$INSTDIR\mconnect.exe"
    ${If} ${Errors}
      MessageBox MB_RETRYCANCEL|MB_ICONEXCLAMATION "${APP} is running.$\r$\n$\r$\nQuit it (right-click the tray icon, then Quit) and click Retry." /SD IDCANCEL IDRETRY retry
      SetErrorLevel 4
      Quit
    ${EndIf}
  ${EndIf}
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  Delete "$SMPROGRAMS\${APP}.lnk"
  DeleteRegValue HKCU "${RUN_KEY}" "${APP}"
  DeleteRegKey SHCTX "${UNINST_KEY}"
  ${If} $Purge == 1
    ; The user's own folders (also for an installation for all users).
    SetShellVarContext current
    RMDir /r "$APPDATA\mconnect"
    RMDir /r "$LOCALAPPDATA\${APP}"
  ${EndIf}
SectionEnd
