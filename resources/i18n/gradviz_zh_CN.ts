<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>CompareController</name>
    <message>
        <source>Compare &amp;With…</source>
        <extracomment>The docks that show one run: compare mode hides them (its own plot has both runs&apos; histories).</extracomment>
        <translation>与…对比(&amp;W)</translation>
    </message>
    <message>
        <source>Run another session or script beside this one, differences marked</source>
        <translation>在旁边运行另一个课程或脚本，并标出差别</translation>
    </message>
    <message>
        <source>Compare &amp;Backward Calls…</source>
        <translation>对比 backward 调用(&amp;B)…</translation>
    </message>
    <message>
        <source>Two backward calls of this run side by side (first and last, or any two you pick)</source>
        <translation>并排显示本次运行的两次 backward 调用（第一次和最后一次，或你选的任意两次）</translation>
    </message>
    <message>
        <source>&amp;Leave Compare</source>
        <translation>退出对比(&amp;L)</translation>
    </message>
    <message>
        <source>Back to the single graph</source>
        <translation>回到单个计算图</translation>
    </message>
    <message>
        <source>A</source>
        <translation>A</translation>
    </message>
    <message>
        <source>B</source>
        <translation>B</translation>
    </message>
    <message>
        <source>Cannot compare</source>
        <translation>无法对比</translation>
    </message>
    <message>
        <source>Compare needs a run with two backward calls recorded step by step</source>
        <translation>对比需要一次运行里至少有两次逐步记录的 backward 调用</translation>
    </message>
    <message>
        <source>#{n} · backward at line {line}</source>
        <translation>#{n} · 第 {line} 行的 backward</translation>
    </message>
    <message>
        <source> (line {line})</source>
        <translation>（第 {line} 行）</translation>
    </message>
    <message>
        <source>{side} failed{where}: {type}: {message}</source>
        <translation>{side} 运行失败{where}：{type}: {message}</translation>
    </message>
</context>
<context>
    <name>CompareExport</name>
    <message>
        <source>Nothing to export yet: both runs need a backward call</source>
        <translation>还没有可导出的内容：两边都需要调用 backward()</translation>
    </message>
    <message>
        <source>Copied both graphs to the clipboard</source>
        <translation>已把两张计算图复制到剪贴板</translation>
    </message>
</context>
<context>
    <name>CompareHistoryPlot</name>
    <message>
        <source>‖.grad‖ of both runs, per backward call</source>
        <extracomment>Leaves plotted at most (by name, those of run A first): more lines than this are unreadable.</extracomment>
        <translation>两次运行的 ‖.grad‖（按 backward 调用）</translation>
    </message>
    <message>
        <source>backward call</source>
        <translation>backward 调用</translation>
    </message>
</context>
<context>
    <name>CompareView</name>
    <message>
        <source>Compare</source>
        <translation>对比</translation>
    </message>
    <message>
        <source>node only one run has</source>
        <translation>只有一边有的节点</translation>
    </message>
    <message>
        <source>.grad differs</source>
        <translation>.grad 不同</translation>
    </message>
    <message>
        <source>Leave Compare</source>
        <translation>退出对比</translation>
    </message>
    <message>
        <source>To Start</source>
        <translation>回到开头</translation>
    </message>
    <message>
        <source>Step Back</source>
        <translation>后退一步</translation>
    </message>
    <message>
        <source>Play</source>
        <translation>播放</translation>
    </message>
    <message>
        <source>Step Forward</source>
        <translation>前进一步</translation>
    </message>
    <message>
        <source>To End</source>
        <translation>跳到结尾</translation>
    </message>
    <message>
        <source>Running both programs…</source>
        <translation>正在运行两个程序…</translation>
    </message>
    <message>
        <source>One run made no backward call: nothing to compare</source>
        <translation>有一边没有调用 backward()：无从对比</translation>
    </message>
    <message>
        <source>No differences: the same nodes and the same .grad values</source>
        <translation>没有差别：节点相同，.grad 的值也相同</translation>
    </message>
    <message>
        <source>{a} node(s) only in A, {b} only in B</source>
        <translation>{a} 个节点只在 A 中，{b} 个只在 B 中</translation>
    </message>
    <message>
        <source>{name}.grad differs by up to {diff:.4g}</source>
        <translation>{name}.grad 最多相差 {diff:.4g}</translation>
    </message>
    <message>
        <source>{name}.grad differs</source>
        <translation>{name}.grad 不同</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>暂停</translation>
    </message>
</context>
<context>
    <name>Dialogs</name>
    <message>
        <source>gradviz sessions (*.gradviz)</source>
        <translation>gradviz 会话 (*.gradviz)</translation>
    </message>
    <message>
        <source>gradviz sessions and Python scripts (*.gradviz *.py);;gradviz sessions (*.gradviz);;Python scripts (*.py)</source>
        <translation>gradviz 会话和 Python 脚本 (*.gradviz *.py);;gradviz 会话 (*.gradviz);;Python 脚本 (*.py)</translation>
    </message>
    <message>
        <source>Open session or script</source>
        <translation>打开会话或脚本</translation>
    </message>
    <message>
        <source>Save session</source>
        <translation>保存会话</translation>
    </message>
    <message>
        <source>Unsaved changes</source>
        <translation>未保存的更改</translation>
    </message>
    <message>
        <source>Save the changes to “{name}”?</source>
        <translation>是否保存对“{name}”的更改？</translation>
    </message>
    <message>
        <source>Your changes are lost if you don&apos;t save them.</source>
        <translation>如果不保存，你的更改将会丢失。</translation>
    </message>
    <message>
        <source>Recover unsaved work</source>
        <translation>恢复未保存的内容</translation>
    </message>
    <message>
        <source>gradviz stopped before “{title}” was saved (autosaved {when}).

Restore that text?</source>
        <translation>gradviz 在“{title}”保存之前停止了（自动保存于 {when}）。

要恢复这段文本吗？</translation>
    </message>
    <message>
        <source>Trust this program?</source>
        <translation>信任这个程序吗？</translation>
    </message>
    <message>
        <source>“{name}” came from outside gradviz, and this system cannot contain the engine that runs it.</source>
        <translation>“{name}”来自 gradviz 之外，而本系统无法把运行它的引擎隔离起来。</translation>
    </message>
    <message>
        <source>Running it gives it the same access to your files, your network and your accounts as any program you start yourself. Run it only if you trust where it came from; gradviz remembers your answer for this program.</source>
        <translation>运行它，就等于让它像你亲自启动的任何程序一样访问你的文件、网络和账户。只有在你信任它的来源时才运行它；gradviz 会记住你对这个程序的回答。</translation>
    </message>
    <message>
        <source>Trust and Run</source>
        <translation>信任并运行</translation>
    </message>
    <message>
        <source>PNG image</source>
        <extracomment>Export formats: key -&gt; (menu text, file filter, suffix). &quot;frames&quot; writes a folder of PNGs. The texts are English; the dialogs show them through translate(&quot;Dialogs&quot;, ...).</extracomment>
        <translation>PNG 图片</translation>
    </message>
    <message>
        <source>PNG images (*.png)</source>
        <translation>PNG 图片 (*.png)</translation>
    </message>
    <message>
        <source>SVG drawing (labels stay text)</source>
        <translation>SVG 矢量图（标签保留为文字）</translation>
    </message>
    <message>
        <source>SVG drawings (*.svg)</source>
        <translation>SVG 矢量图 (*.svg)</translation>
    </message>
    <message>
        <source>Animated GIF of the backward pass</source>
        <translation>反向传播的 GIF 动画</translation>
    </message>
    <message>
        <source>GIF animations (*.gif)</source>
        <translation>GIF 动画 (*.gif)</translation>
    </message>
    <message>
        <source>Animated PNG of the backward pass</source>
        <translation>反向传播的 APNG 动画</translation>
    </message>
    <message>
        <source>Animated PNG (*.png *.apng)</source>
        <translation>APNG 动画 (*.png *.apng)</translation>
    </message>
    <message>
        <source>Numbered PNG frames of the backward pass</source>
        <translation>反向传播的逐帧 PNG（按序编号）</translation>
    </message>
    <message>
        <source>Export graph</source>
        <translation>导出计算图</translation>
    </message>
    <message>
        <source>Theme colour</source>
        <translation>主题颜色</translation>
    </message>
    <message>
        <source>Transparent</source>
        <translation>透明</translation>
    </message>
    <message>
        <source>Lesson title, statement and step above the graph</source>
        <translation>在图上方显示课程标题、语句和步骤</translation>
    </message>
    <message>
        <source>Format</source>
        <translation>格式</translation>
    </message>
    <message>
        <source>Scale</source>
        <translation>缩放</translation>
    </message>
    <message>
        <source>Background</source>
        <translation>背景</translation>
    </message>
    <message>
        <source>Caption</source>
        <translation>说明文字</translation>
    </message>
    <message>
        <source>What is exported looks like the canvas now: the same step, lit node and labels.</source>
        <translation>导出的内容与画布当前的样子一致：相同的步骤、高亮节点和标签。</translation>
    </message>
    <message>
        <source>Export…</source>
        <translation>导出…</translation>
    </message>
    <message>
        <source>Compare backward calls</source>
        <translation>对比 backward 调用</translation>
    </message>
    <message>
        <source>Left</source>
        <translation>左边</translation>
    </message>
    <message>
        <source>Right</source>
        <translation>右边</translation>
    </message>
    <message>
        <source>Both calls are shown side by side, stepping together; what differs is marked.</source>
        <translation>两次调用并排显示、同步步进，不同之处会被标出。</translation>
    </message>
    <message>
        <source>Compare</source>
        <translation>对比</translation>
    </message>
    <message>
        <source>Limits of a run</source>
        <translation>运行限制</translation>
    </message>
    <message>
        <source> characters</source>
        <translation> 个字符</translation>
    </message>
    <message>
        <source> elements</source>
        <translation> 个元素</translation>
    </message>
    <message>
        <source> operations</source>
        <translation> 次运算</translation>
    </message>
    <message>
        <source>Time limit in seconds</source>
        <translation>时间限制（秒）</translation>
    </message>
    <message>
        <source>Memory limit in MB</source>
        <translation>内存限制（MB）</translation>
    </message>
    <message>
        <source>Most elements in one tensor</source>
        <translation>单个张量的最多元素数</translation>
    </message>
    <message>
        <source>Most torch operations the program may call</source>
        <translation>程序最多可调用的 torch 运算次数</translation>
    </message>
    <message>
        <source>Most characters the program may print</source>
        <translation>程序最多可输出的字符数</translation>
    </message>
    <message>
        <source>Largest result in MB (past it values are summarised)</source>
        <translation>结果的最大大小（MB，超出后数值只给出摘要）</translation>
    </message>
    <message>
        <source>They are saved with the session. A run that reaches one stops with a message that names it.</source>
        <translation>这些限制随会话一起保存。运行触及任何一项限制时会停止，并给出指明该限制的提示。</translation>
    </message>
    <message>
        <source>Folder for the PNG frames</source>
        <translation>存放 PNG 帧的文件夹</translation>
    </message>
    <message>
        <source>“{name}”: gradviz exports {names}. Give the file one of these extensions.</source>
        <extracomment>The format each file extension names, for the still and the animated export.</extracomment>
        <translation>“{name}”：gradviz 可导出 {names}。请给文件使用其中一种扩展名。</translation>
    </message>
    <message>
        <source>“{name}” names an animation of the backward pass, and none is shown: step into a backward call first, or save a still as .png or .svg.</source>
        <translation>“{name}”是反向传播动画的文件名，但当前没有显示任何反向传播：请先进入一次 backward 调用，或把静态图保存为 .png 或 .svg。</translation>
    </message>
    <message>
        <source>Save window screenshot</source>
        <translation>保存窗口截图</translation>
    </message>
</context>
<context>
    <name>Editor</name>
    <message>
        <source>Hint: {hint}</source>
        <translation>提示：{hint}</translation>
    </message>
    <message>
        <source>Go to line</source>
        <translation>转到该行</translation>
    </message>
    <message>
        <source>Hide this message</source>
        <translation>隐藏此消息</translation>
    </message>
    <message>
        <source>Go to line {line}</source>
        <translation>转到第 {line} 行</translation>
    </message>
    <message>
        <source>Line {line}</source>
        <translation>第 {line} 行</translation>
    </message>
</context>
<context>
    <name>Exports</name>
    <message>
        <source>Nothing to export yet: run a program that builds a graph</source>
        <translation>还没有可导出的内容：请先运行一个会构建计算图的程序</translation>
    </message>
    <message>
        <source>Cannot export</source>
        <translation>无法导出</translation>
    </message>
    <message>
        <source>Exported {name}</source>
        <translation>已导出 {name}</translation>
    </message>
    <message>
        <source>Copied the graph image to the clipboard</source>
        <translation>已将计算图图片复制到剪贴板</translation>
    </message>
    <message>
        <source>Cannot save screenshot</source>
        <translation>无法保存截图</translation>
    </message>
</context>
<context>
    <name>FindBar</name>
    <message>
        <source>Find in the program</source>
        <translation>在程序中查找</translation>
    </message>
    <message>
        <source>Previous match  (Shift+Enter, Shift+F3)</source>
        <translation>上一个匹配  (Shift+Enter, Shift+F3)</translation>
    </message>
    <message>
        <source>Next match  (Enter, F3)</source>
        <translation>下一个匹配  (Enter, F3)</translation>
    </message>
    <message>
        <source>Close  (Esc)</source>
        <translation>关闭  (Esc)</translation>
    </message>
    <message>
        <source>Not found</source>
        <translation>未找到</translation>
    </message>
    <message>
        <source>Wrapped</source>
        <translation>已从另一端继续</translation>
    </message>
</context>
<context>
    <name>GradsPanel</name>
    <message>
        <source>Leaf / parameter</source>
        <extracomment>At most this many leaves are plotted at once (the ones with the largest gradients). Heatmaps with at most this many cells show each value in its cell, when the cells are at least this wide and high on screen (pixels, before the font scale): a 64-vector is a strip of 5-pixel cells in a narrow dock, where 64 labels would be unreadable and slow every step. The part of the heatmap widget that is not cells (axes, colour bar, margins), in pixels before the font scale, until it has been measured once on screen. Tables with more rows than this size their name and shape columns once, not on every change. When more rows than this change at once (a jump across a call), only the rows in view are written now, the others as they scroll into view. Leaves with at most this many elements can plot each element&apos;s history. Lines the history legend may take; entries beyond are counted (&quot;+3 more&quot;) and in its tooltip.</extracomment>
        <translation>叶子节点 / 参数</translation>
    </message>
    <message>
        <source>Shape</source>
        <translation>形状</translation>
    </message>
    <message>
        <source>Run a program to see each leaf&apos;s .grad</source>
        <translation>运行程序后，这里显示每个叶子节点的 .grad</translation>
    </message>
    <message>
        <source>leaf tensor (requires_grad=True)</source>
        <translation>叶子张量（requires_grad=True）</translation>
    </message>
    <message>
        <source>No backward pass has written it yet,
or zero_grad() set it back to None.</source>
        <translation>还没有反向传播写入它，
或者 zero_grad() 把它重新设成了 None。</translation>
    </message>
</context>
<context>
    <name>HistoryPlot</name>
    <message>
        <source>‖.grad‖ (norm)</source>
        <translation>‖.grad‖（范数）</translation>
    </message>
    <message>
        <source>each element</source>
        <translation>每个元素</translation>
    </message>
    <message>
        <source>Plot the norm of each .grad, or every element of one small leaf</source>
        <translation>绘制每个 .grad 的范数，或某个小叶子张量的每个元素</translation>
    </message>
    <message>
        <source>Which leaves to plot</source>
        <translation>要绘制哪些叶子节点</translation>
    </message>
    <message>
        <source>backward call</source>
        <translation>backward 调用</translation>
    </message>
    <message>
        <source>No .grad history yet: the plot fills in when a program calls backward()</source>
        <translation>还没有 .grad 历史：程序调用 backward() 后这里会画出曲线</translation>
    </message>
    <message>
        <source>all leaves</source>
        <translation>全部叶子节点</translation>
    </message>
    <message>
        <source>{name}.grad elements</source>
        <translation>{name}.grad 的各元素</translation>
    </message>
    <message>
        <source>.grad zeroed</source>
        <translation>.grad 被清零</translation>
    </message>
    <message>
        <source>.grad set</source>
        <translation>.grad 被赋值</translation>
    </message>
    <message>
        <source>largest {shown} of {all} leaves · </source>
        <translation>{all} 个叶子节点中最大的 {shown} 个 · </translation>
    </message>
    <message>
        <source>%n backward call</source>
        <translation>%n 次 backward 调用</translation>
    </message>
    <message>
        <source>%n backward calls</source>
        <translation>%n 次 backward 调用</translation>
    </message>
    <message>
        <source> · .grad reset {count}×</source>
        <translation> · .grad 重置了 {count} 次</translation>
    </message>
    <message>
        <source> · never reset: .grad accumulates</source>
        <translation> · 从未重置：.grad 不断累加</translation>
    </message>
    <message>
        <source>+{count} more</source>
        <translation>另有 {count} 个</translation>
    </message>
</context>
<context>
    <name>Inspector</name>
    <message>
        <source>root tensor (where backward starts)</source>
        <translation>根张量（反向传播从这里开始）</translation>
    </message>
    <message>
        <source>operation (grad_fn)</source>
        <translation>运算（grad_fn）</translation>
    </message>
    <message>
        <source>AccumulateGrad (writes .grad)</source>
        <translation>AccumulateGrad（写入 .grad）</translation>
    </message>
    <message>
        <source>leaf tensor</source>
        <translation>叶子张量</translation>
    </message>
    <message>
        <source>parameter</source>
        <translation>参数</translation>
    </message>
    <message>
        <source>Run a program, then click a node of the graph to inspect it.</source>
        <translation>先运行程序，再点击计算图中的节点来查看它。</translation>
    </message>
    <message>
        <source>Click a node of the graph to see its op, shape, saved tensors, the gradients flowing through it at the current step, and its derivative rule.</source>
        <translation>点击计算图中的节点，可查看它的运算、形状、保存的张量、当前步骤流经它的梯度，以及它的求导法则。</translation>
    </message>
    <message>
        <source>output held by {names}</source>
        <translation>输出保存在 {names} 中</translation>
    </message>
    <message>
        <source>line {line}</source>
        <translation>第 {line} 行</translation>
    </message>
    <message>
        <source>shape</source>
        <translation>形状</translation>
    </message>
    <message>
        <source>names</source>
        <translation>变量名</translation>
    </message>
    <message>
        <source>line</source>
        <translation>行</translation>
    </message>
    <message>
        <source>value</source>
        <translation>值</translation>
    </message>
    <message>
        <source>Tensor</source>
        <translation>张量</translation>
    </message>
    <message>
        <source>Output</source>
        <translation>输出张量</translation>
    </message>
    <message>
        <source>Made by a backward pass</source>
        <translation>由反向传播创建</translation>
    </message>
    <message>
        <source>create_graph=True: the backward pass built this node while it ran its origin, so the gradient has a graph of its own and can be differentiated again.</source>
        <translation>create_graph=True：反向传播在运行其来源节点时创建了这个节点，因此梯度有自己的计算图，可以再次求导。</translation>
    </message>
    <message>
        <source>Gradient</source>
        <translation>梯度</translation>
    </message>
    <message>
        <source>No backward call has run through this graph.</source>
        <translation>还没有 backward 调用经过这张计算图。</translation>
    </message>
    <message>
        <source>This node is not part of the graph of the backward call being replayed (call {call}, line {line}).</source>
        <translation>这个节点不在正在回放的 backward 调用（第 {call} 次调用，第 {line} 行）的计算图中。</translation>
    </message>
    <message>
        <source>Gradient · step {step} of {steps}</source>
        <translation>梯度 · 第 {step} 步，共 {steps} 步</translation>
    </message>
    <message>
        <source>.grad now</source>
        <translation>当前的 .grad</translation>
    </message>
    <message>
        <source>backward starts here with ∂L/∂{name} =</source>
        <translation>反向传播从这里开始，∂L/∂{name} =</translation>
    </message>
    <message>
        <source>The engine did not run this node in this call (no gradient reached it).</source>
        <translation>这次调用中引擎没有执行这个节点（没有梯度传到它）。</translation>
    </message>
    <message>
        <source>Not run yet: the engine runs it at step {step}.</source>
        <translation>尚未执行：引擎将在第 {step} 步执行它。</translation>
    </message>
    <message>
        <source>▶ running now</source>
        <translation>▶ 正在执行</translation>
    </message>
    <message>
        <source>fan-in: {count} gradients arrive and are summed</source>
        <translation>扇入：{count} 个梯度汇集于此并相加</translation>
    </message>
    <message>
        <source>gradient in (∂L/∂output)</source>
        <translation>传入的梯度（∂L/∂输出）</translation>
    </message>
    <message>
        <source>gradients in</source>
        <translation>传入的梯度</translation>
    </message>
    <message>
        <source>.grad before + incoming = after</source>
        <translation>原 .grad + 传入梯度 = 新 .grad</translation>
    </message>
    <message>
        <source>→ {target} [input {index}]: {value}</source>
        <translation>→ {target} [输入 {index}]：{value}</translation>
    </message>
    <message>
        <source>gradients out, one per input</source>
        <translation>传出的梯度（每个输入一个）</translation>
    </message>
    <message>
        <source>(freed)</source>
        <translation>（已释放）</translation>
    </message>
    <message>
        <source>Freed saved tensors are gone: a second backward through this node needs {code} on the first.</source>
        <translation>已释放的保存张量不复存在：要再次经过这个节点做反向传播，第一次 backward 时需要 {code}。</translation>
    </message>
    <message>
        <source>Saved for backward</source>
        <translation>为反向传播保存的张量</translation>
    </message>
    <message>
        <source>ran after the module&apos;s forward made this node</source>
        <translation>在模块的 forward 生成这个节点之后运行</translation>
    </message>
    <message>
        <source>runs here, as the gradient passes on to the module&apos;s inputs</source>
        <translation>在这里运行，此时梯度正传向模块的输入</translation>
    </message>
    <message>
        <source>runs on the gradient arriving here (and may change it)</source>
        <translation>作用于到达这里的梯度（并可能修改它）</translation>
    </message>
    <message>
        <source>forward hook</source>
        <translation>forward 钩子</translation>
    </message>
    <message>
        <source>backward hook</source>
        <translation>backward 钩子</translation>
    </message>
    <message>
        <source>tensor hook</source>
        <translation>张量钩子</translation>
    </message>
    <message>
        <source>Hooks</source>
        <translation>钩子</translation>
    </message>
    <message>
        <source>Rule</source>
        <translation>法则</translation>
    </message>
    <message>
        <source>A leaf has no grad_fn: gradients end here, added into {grad} by its AccumulateGrad node.</source>
        <translation>叶子节点没有 grad_fn：梯度在这里终止，由它的 AccumulateGrad 节点累加到 {grad} 中。</translation>
    </message>
    <message>
        <source>Local derivative</source>
        <translation>局部导数</translation>
    </message>
    <message>
        <source>No formula written for {op} yet.</source>
        <translation>还没有为 {op} 写出公式。</translation>
    </message>
</context>
<context>
    <name>Keyboard</name>
    <message>
        <source>Indent the line, or the selected lines</source>
        <extracomment>Keys of the editor that are no action of the window (so the shortcuts list can&apos;t learn them from one). (English; the list shows them through translate(&quot;Keyboard&quot;, ...)).</extracomment>
        <translation>缩进当前行或选中的行</translation>
    </message>
    <message>
        <source>Unindent the selected lines</source>
        <translation>取消选中行的缩进</translation>
    </message>
    <message>
        <source>Move focus out of the editor</source>
        <translation>把焦点移出编辑器</translation>
    </message>
    <message>
        <source>Ctrl+Tab  ·  Esc then Tab</source>
        <translation>Ctrl+Tab  ·  先按 Esc 再按 Tab</translation>
    </message>
    <message>
        <source>Move focus out of the editor, backwards</source>
        <translation>把焦点反向移出编辑器</translation>
    </message>
    <message>
        <source>Ctrl+Shift+Tab  ·  Esc then Shift+Tab</source>
        <translation>Ctrl+Shift+Tab  ·  先按 Esc 再按 Shift+Tab</translation>
    </message>
    <message>
        <source>Find: next / previous match (in the find bar)</source>
        <translation>查找：下一个 / 上一个匹配（在查找栏中）</translation>
    </message>
    <message>
        <source>Close the find bar</source>
        <translation>关闭查找栏</translation>
    </message>
    <message>
        <source>What runs, and how safely</source>
        <translation>运行什么，有多安全</translation>
    </message>
    <message>
        <source>Other</source>
        <translation>其他</translation>
    </message>
    <message>
        <source>Editor</source>
        <translation>编辑器</translation>
    </message>
    <message>
        <source>Keyboard shortcuts</source>
        <translation>键盘快捷键</translation>
    </message>
    <message>
        <source>The note is missing from this installation; run `gradviz doctor` to see how the engine is contained.</source>
        <translation>此安装中缺少这份说明；运行 `gradviz doctor` 可查看引擎是如何被隔离的。</translation>
    </message>
</context>
<context>
    <name>MadeBy</name>
    <message>
        <source>made by the backward of {op} (line {line}), call {call}</source>
        <extracomment>The badge on a marked node and in the legend: the sign of a derivative. How far the mark&apos;s dashed outline stands off the node box (inside the selection ring at 4).</extracomment>
        <translation>由 {op}（第 {line} 行）的反向计算创建，第 {call} 次反向调用</translation>
    </message>
    <message>
        <source>made by the backward of {op}, call {call}</source>
        <translation>由 {op} 的反向计算创建，第 {call} 次反向调用</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>The window now speaks {language}.</source>
        <extracomment>The windows open now: a window rebuilt in another language replaces its predecessor here. What to do instead when there is no display; printed rather than letting Qt abort.</extracomment>
        <translation>窗口语言已切换为{language}。</translation>
    </message>
    <message>
        <source>&amp;Pause</source>
        <extracomment>The actions that need backward calls to play.</extracomment>
        <translation>暂停(&amp;P)</translation>
    </message>
    <message>
        <source>&amp;Play</source>
        <translation>播放(&amp;P)</translation>
    </message>
    <message>
        <source>Graph</source>
        <translation>计算图</translation>
    </message>
    <message>
        <source>Untitled</source>
        <extracomment>Run modes: nothing running, a whole run, a run to the cursor, one more statement (Step), and a rerun that records one backward call step by step (&quot;fetch&quot;). The strings are those that ``MainWindow.show_result`` takes as its ``mode``. Every field and its value in a new window.</extracomment>
        <translation>未命名</translation>
    </message>
    <message>
        <source>&amp;New</source>
        <translation>新建(&amp;N)</translation>
    </message>
    <message>
        <source>New session</source>
        <translation>新建会话</translation>
    </message>
    <message>
        <source>&amp;Open…</source>
        <translation>打开(&amp;O)…</translation>
    </message>
    <message>
        <source>Open a session or a Python script</source>
        <translation>打开会话或 Python 脚本</translation>
    </message>
    <message>
        <source>&amp;Save</source>
        <translation>保存(&amp;S)</translation>
    </message>
    <message>
        <source>Save the session</source>
        <translation>保存会话</translation>
    </message>
    <message>
        <source>Save &amp;As…</source>
        <translation>另存为(&amp;A)…</translation>
    </message>
    <message>
        <source>Save the session under a new name</source>
        <translation>以新名称保存会话</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <source>&amp;Undo</source>
        <translation>撤销(&amp;U)</translation>
    </message>
    <message>
        <source>Undo</source>
        <translation>撤销</translation>
    </message>
    <message>
        <source>&amp;Redo</source>
        <translation>重做(&amp;R)</translation>
    </message>
    <message>
        <source>Redo</source>
        <translation>重做</translation>
    </message>
    <message>
        <source>Toggle Co&amp;mment</source>
        <translation>切换注释(&amp;M)</translation>
    </message>
    <message>
        <source>Cu&amp;t</source>
        <translation>剪切(&amp;T)</translation>
    </message>
    <message>
        <source>&amp;Copy</source>
        <translation>复制(&amp;C)</translation>
    </message>
    <message>
        <source>&amp;Paste</source>
        <translation>粘贴(&amp;P)</translation>
    </message>
    <message>
        <source>Select &amp;All</source>
        <translation>全选(&amp;A)</translation>
    </message>
    <message>
        <source>&amp;Find…</source>
        <translation>查找(&amp;F)…</translation>
    </message>
    <message>
        <source>Find in the program</source>
        <translation>在程序中查找</translation>
    </message>
    <message>
        <source>Find &amp;Next</source>
        <translation>查找下一个(&amp;N)</translation>
    </message>
    <message>
        <source>Next match in the program</source>
        <translation>程序中的下一个匹配</translation>
    </message>
    <message>
        <source>Find Pre&amp;vious</source>
        <translation>查找上一个(&amp;V)</translation>
    </message>
    <message>
        <source>Previous match in the program</source>
        <translation>程序中的上一个匹配</translation>
    </message>
    <message>
        <source>&amp;Run</source>
        <translation>运行(&amp;R)</translation>
    </message>
    <message>
        <source>Run the whole program</source>
        <translation>运行整个程序</translation>
    </message>
    <message>
        <source>Run to &amp;Cursor</source>
        <translation>运行到光标处(&amp;C)</translation>
    </message>
    <message>
        <source>Run up to the statement at the cursor</source>
        <translation>运行到光标所在的语句为止</translation>
    </message>
    <message>
        <source>S&amp;tep</source>
        <translation>单步(&amp;T)</translation>
    </message>
    <message>
        <source>Run one more statement, like a debugger</source>
        <translation>像调试器那样再运行一条语句</translation>
    </message>
    <message>
        <source>&amp;Stop</source>
        <translation>停止(&amp;S)</translation>
    </message>
    <message>
        <source>Stop the running program</source>
        <translation>停止正在运行的程序</translation>
    </message>
    <message>
        <source>Restart &amp;Engine</source>
        <translation>重启引擎(&amp;E)</translation>
    </message>
    <message>
        <source>Kill the engine process and start a fresh one</source>
        <translation>结束引擎进程并启动一个新的</translation>
    </message>
    <message>
        <source>&amp;Limits…</source>
        <translation>运行限制(&amp;L)…</translation>
    </message>
    <message>
        <source>Play or pause the backward pass</source>
        <translation>播放或暂停反向传播</translation>
    </message>
    <message>
        <source>Step &amp;Forward</source>
        <translation>前进一步(&amp;F)</translation>
    </message>
    <message>
        <source>Next step of the backward pass</source>
        <translation>反向传播的下一步</translation>
    </message>
    <message>
        <source>Step &amp;Back</source>
        <translation>后退一步(&amp;B)</translation>
    </message>
    <message>
        <source>Previous step of the backward pass</source>
        <translation>反向传播的上一步</translation>
    </message>
    <message>
        <source>To &amp;Start</source>
        <translation>回到开头(&amp;S)</translation>
    </message>
    <message>
        <source>Before the first step</source>
        <translation>第一步之前</translation>
    </message>
    <message>
        <source>To &amp;End</source>
        <translation>跳到结尾(&amp;E)</translation>
    </message>
    <message>
        <source>After the last step</source>
        <translation>最后一步之后</translation>
    </message>
    <message>
        <source>Previous Backward Call</source>
        <translation>上一次 backward 调用</translation>
    </message>
    <message>
        <source>Next Backward Call</source>
        <translation>下一次 backward 调用</translation>
    </message>
    <message>
        <source>Zoom &amp;In</source>
        <translation>放大(&amp;I)</translation>
    </message>
    <message>
        <source>Zoom in</source>
        <translation>放大</translation>
    </message>
    <message>
        <source>Zoom &amp;Out</source>
        <translation>缩小(&amp;O)</translation>
    </message>
    <message>
        <source>Zoom out</source>
        <translation>缩小</translation>
    </message>
    <message>
        <source>&amp;Fit Graph</source>
        <translation>适应窗口(&amp;F)</translation>
    </message>
    <message>
        <source>Fit the whole graph in view</source>
        <translation>让整张计算图显示在视图中</translation>
    </message>
    <message>
        <source>Actual &amp;Size</source>
        <translation>实际大小(&amp;S)</translation>
    </message>
    <message>
        <source>Zoom to 100 %</source>
        <translation>缩放到 100 %</translation>
    </message>
    <message>
        <source>&amp;Dark Theme</source>
        <translation>深色主题(&amp;D)</translation>
    </message>
    <message>
        <source>Dark theme</source>
        <translation>深色主题</translation>
    </message>
    <message>
        <source>&amp;Presentation Mode</source>
        <translation>演示模式(&amp;P)</translation>
    </message>
    <message>
        <source>Large fonts for projectors</source>
        <translation>为投影仪使用大字体</translation>
    </message>
    <message>
        <source>&amp;Full Screen</source>
        <translation>全屏(&amp;F)</translation>
    </message>
    <message>
        <source>Full screen</source>
        <translation>全屏</translation>
    </message>
    <message>
        <source>Root at the &amp;Bottom</source>
        <translation>根节点放在底部(&amp;B)</translation>
    </message>
    <message>
        <source>Draw the loss at the bottom of the graph</source>
        <translation>把损失画在计算图的底部</translation>
    </message>
    <message>
        <source>&amp;Export Graph…</source>
        <translation>导出计算图(&amp;E)…</translation>
    </message>
    <message>
        <source>Export the graph: PNG, SVG, or the backward pass as GIF, APNG or PNG frames</source>
        <translation>导出计算图：PNG、SVG，或把反向传播导出为 GIF、APNG 或 PNG 帧</translation>
    </message>
    <message>
        <source>&amp;Copy Graph Image</source>
        <translation>复制计算图图片(&amp;C)</translation>
    </message>
    <message>
        <source>Copy the graph as an image to the clipboard</source>
        <translation>把计算图作为图片复制到剪贴板</translation>
    </message>
    <message>
        <source>Save Window &amp;Screenshot…</source>
        <translation>保存窗口截图(&amp;S)…</translation>
    </message>
    <message>
        <source>Save a PNG of the whole window</source>
        <translation>把整个窗口保存为 PNG</translation>
    </message>
    <message>
        <source>&amp;Keyboard Shortcuts</source>
        <translation>键盘快捷键(&amp;K)</translation>
    </message>
    <message>
        <source>Every shortcut of the window and the editor</source>
        <translation>窗口和编辑器的全部快捷键</translation>
    </message>
    <message>
        <source>&amp;What Runs, and How Safely</source>
        <translation>运行什么，有多安全(&amp;W)</translation>
    </message>
    <message>
        <source>How the engine is contained: the README&apos;s safety note</source>
        <translation>引擎如何被隔离：README 中的安全说明</translation>
    </message>
    <message>
        <source>&amp;About gradviz</source>
        <translation>关于 gradviz(&amp;A)</translation>
    </message>
    <message>
        <source>Which graph to draw: a backward call&apos;s, or the graph behind any tensor variable</source>
        <translation>要绘制哪张图：某次 backward 调用的计算图，或任一张量变量背后的计算图</translation>
    </message>
    <message>
        <source>Show</source>
        <translation>显示</translation>
    </message>
    <message>
        <source>Program</source>
        <translation>程序</translation>
    </message>
    <message>
        <source>What the program prints appears here.</source>
        <translation>程序打印的内容会显示在这里。</translation>
    </message>
    <message>
        <source>Output</source>
        <translation>输出</translation>
    </message>
    <message>
        <source>Lesson title</source>
        <translation>课程标题</translation>
    </message>
    <message>
        <source>Notes for this lesson: what to look at, what to try.</source>
        <translation>本课笔记：看什么，试什么。</translation>
    </message>
    <message>
        <source>Lesson</source>
        <translation>课程</translation>
    </message>
    <message>
        <source>Inspector</source>
        <translation>检查器</translation>
    </message>
    <message>
        <source>Gradients (.grad)</source>
        <translation>梯度（.grad）</translation>
    </message>
    <message>
        <source>.grad history</source>
        <translation>.grad 历史</translation>
    </message>
    <message>
        <source>Main</source>
        <translation>主工具栏</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <source>Open &amp;Recent</source>
        <translation>最近打开(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Examples</source>
        <translation>示例(&amp;E)</translation>
    </message>
    <message>
        <source>&amp;Edit</source>
        <translation>编辑(&amp;E)</translation>
    </message>
    <message>
        <source>&amp;Backward</source>
        <translation>反向传播(&amp;B)</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <source>&amp;Language</source>
        <translation>语言(&amp;L)</translation>
    </message>
    <message>
        <source>&amp;Panels</source>
        <translation>面板(&amp;P)</translation>
    </message>
    <message>
        <source>&amp;Lessons</source>
        <translation>课程(&amp;L)</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <source>● Engine starting…</source>
        <translation>● 引擎启动中…</translation>
    </message>
    <message>
        <source>The engine runs your program in a process of its own (PyTorch loads there)</source>
        <translation>引擎在独立的进程中运行你的程序（PyTorch 在那里加载）</translation>
    </message>
</context>
<context>
    <name>Player</name>
    <message>
        <source>backward call {index} of {count} · line {line} · </source>
        <translation>第 {index} 次 backward 调用，共 {count} 次 · 第 {line} 行 · </translation>
    </message>
    <message>
        <source>{count} steps</source>
        <translation>{count} 步</translation>
    </message>
    <message>
        <source>its steps are recorded when you pick it</source>
        <translation>选中它时才会逐步记录</translation>
    </message>
    <message>
        <source>No backward call yet</source>
        <translation>还没有 backward 调用</translation>
    </message>
    <message>
        <source>Scrub through the backward pass</source>
        <translation>拖动浏览反向传播</translation>
    </message>
    <message>
        <source>Animation speed</source>
        <translation>动画速度</translation>
    </message>
    <message>
        <source>No backward call yet: run a program that calls backward()</source>
        <translation>还没有 backward 调用：请运行一个调用 backward() 的程序</translation>
    </message>
    <message>
        <source>{kind} at line {line}</source>
        <translation>第 {line} 行的 {kind}</translation>
    </message>
    <message>
        <source>Call {index} of {count}: </source>
        <translation>调用 {index}/{count}：</translation>
    </message>
    <message>
        <source>  ⚠ failed</source>
        <translation>  ⚠ 失败</translation>
    </message>
    <message>
        <source>start · {count} steps</source>
        <translation>开始 · 共 {count} 步</translation>
    </message>
    <message>
        <source>step {step}/{count} · {op}</source>
        <translation>第 {step}/{count} 步 · {op}</translation>
    </message>
</context>
<context>
    <name>Results</name>
    <message>
        <source>Preparing {count} nodes…</source>
        <extracomment>Graphs with more nodes than this are laid out on a worker thread before they are shown. Delay (ms) between the pieces of work that fill the panels with a big result.</extracomment>
        <translation>正在准备 {count} 个节点…</translation>
    </message>
    <message>
        <source>the run did not reach it</source>
        <translation>运行没有到达它</translation>
    </message>
    <message>
        <source>backward call {index} could not be recorded: {why}</source>
        <translation>无法记录第 {index} 次 backward 调用：{why}</translation>
    </message>
    <message>
        <source>The engine stopped; the next run gets a new one</source>
        <translation>引擎已停止；下次运行会启动一个新的引擎</translation>
    </message>
    <message>
        <source>Stopped at line {line}.</source>
        <translation>在第 {line} 行停止。</translation>
    </message>
    <message>
        <source>Stopped.</source>
        <translation>已停止。</translation>
    </message>
    <message>
        <source>What ran before is shown.</source>
        <translation>显示的是此前已运行的部分。</translation>
    </message>
    <message>
        <source>Not all of this run is recorded.</source>
        <translation>这次运行没有被完整记录。</translation>
    </message>
    <message>
        <source>line {line} → {value}</source>
        <translation>第 {line} 行 → {value}</translation>
    </message>
    <message>
        <source>line {line}: </source>
        <translation>第 {line} 行：</translation>
    </message>
    <message>
        <source>Failed in {time}</source>
        <translation>运行失败，用时 {time}</translation>
    </message>
    <message>
        <source>Stopped in {time}</source>
        <translation>已停止，用时 {time}</translation>
    </message>
    <message>
        <source>Ran in {time}</source>
        <translation>运行完成，用时 {time}</translation>
    </message>
    <message>
        <source>Stopped after line {line} in {time}</source>
        <translation>在第 {line} 行后停止，用时 {time}</translation>
    </message>
    <message>
        <source> · {nodes} nodes · %n backward call</source>
        <translation> · {nodes} 个节点 · %n 次 backward 调用</translation>
    </message>
    <message>
        <source> · {nodes} nodes · %n backward calls</source>
        <translation> · {nodes} 个节点 · %n 次 backward 调用</translation>
    </message>
    <message>
        <source>backward call {index} · line {line}</source>
        <translation>第 {index} 次 backward · 第 {line} 行</translation>
    </message>
    <message>
        <source>backward at line {line}</source>
        <translation>第 {line} 行的 backward</translation>
    </message>
    <message>
        <source>  (failed)</source>
        <translation>  （失败）</translation>
    </message>
    <message>
        <source>scalar</source>
        <translation>标量</translation>
    </message>
    <message>
        <source>leaf</source>
        <translation>叶子</translation>
    </message>
    <message>
        <source>No autograd graph</source>
        <translation>没有 autograd 计算图</translation>
    </message>
    <message>
        <source>Make a tensor with requires_grad=True and compute with it</source>
        <translation>创建一个 requires_grad=True 的张量并用它做运算</translation>
    </message>
    <message>
        <source>Backward call {index}</source>
        <translation>第 {index} 次 backward 调用</translation>
    </message>
    <message>
        <source>Backward pass</source>
        <translation>反向传播</translation>
    </message>
    <message>
        <source>%n step</source>
        <translation>%n 步</translation>
    </message>
    <message>
        <source>%n steps</source>
        <translation>%n 步</translation>
    </message>
    <message>
        <source>line {line} · {nodes} nodes · {steps}</source>
        <translation>第 {line} 行 · {nodes} 个节点 · {steps}</translation>
    </message>
    <message>
        <source>Graph of {name}</source>
        <translation>{name} 的计算图</translation>
    </message>
    <message>
        <source>{count} nodes</source>
        <translation>{count} 个节点</translation>
    </message>
    <message>
        <source>Laying out {count} nodes…</source>
        <translation>正在布局 {count} 个节点…</translation>
    </message>
</context>
<context>
    <name>Runner</name>
    <message>
        <source>the engine did not start within {seconds} s</source>
        <translation>引擎未能在 {seconds} 秒内启动</translation>
    </message>
    <message>
        <source>the engine failed: {detail}</source>
        <translation>引擎出错：{detail}</translation>
    </message>
    <message>
        <source>it was stopped</source>
        <translation>它被停止了</translation>
    </message>
</context>
<context>
    <name>Runs</name>
    <message>
        <source>Running</source>
        <extracomment>A run longer than this (ms) shows the progress bar. The status bar while a run of each mode is going. (English; the status bar shows them through translate(&quot;Runs&quot;, ...)).</extracomment>
        <translation>正在运行</translation>
    </message>
    <message>
        <source>Running to the cursor</source>
        <translation>正在运行到光标处</translation>
    </message>
    <message>
        <source>Stepping</source>
        <translation>正在单步执行</translation>
    </message>
    <message>
        <source>Recording the backward call</source>
        <translation>正在记录 backward 调用</translation>
    </message>
    <message>
        <source>● Engine starting…  (loading PyTorch)</source>
        <translation>● 引擎启动中…（正在加载 PyTorch）</translation>
    </message>
    <message>
        <source>The program changed since this run: run it again to see this call</source>
        <translation>程序在这次运行之后被修改了：请重新运行以查看这次调用</translation>
    </message>
    <message>
        <source>recording backward call {index} step by step…</source>
        <translation>正在逐步记录第 {index} 次 backward 调用…</translation>
    </message>
    <message>
        <source>Stopping the program…</source>
        <translation>正在停止程序…</translation>
    </message>
    <message>
        <source>The new limits apply from the next run.</source>
        <translation>新的限制从下次运行起生效。</translation>
    </message>
    <message>
        <source>Running line {line}</source>
        <translation>正在运行第 {line} 行</translation>
    </message>
    <message>
        <source> · {count} statements</source>
        <translation> · 已执行 {count} 条语句</translation>
    </message>
    <message>
        <source>Running… press Shift+F5 to stop</source>
        <translation>正在运行… 按 Shift+F5 停止</translation>
    </message>
    <message>
        <source>Recorded backward call {index} in {time} s</source>
        <translation>已记录第 {index} 次 backward 调用，用时 {time} 秒</translation>
    </message>
    <message>
        <source>Not run</source>
        <translation>未运行</translation>
    </message>
    <message>
        <source>Not run: this program came from elsewhere.</source>
        <translation>未运行：这个程序来自别处。</translation>
    </message>
    <message>
        <source>This system cannot contain the engine (Help ▸ About gradviz says why). Run it again to trust it.</source>
        <translation>本系统无法隔离引擎（原因见“帮助 ▸ 关于 gradviz”）。再次运行即表示信任它。</translation>
    </message>
    <message>
        <source>● Engine ready · not contained</source>
        <translation>● 引擎就绪 · 未隔离</translation>
    </message>
    <message>
        <source>● Engine ready</source>
        <translation>● 引擎就绪</translation>
    </message>
    <message>
        <source>The engine runs each program in a fresh process; {summary} (Help ▸ About gradviz)</source>
        <translation>引擎在全新的进程中运行每个程序；{summary}（帮助 ▸ 关于 gradviz）</translation>
    </message>
    <message>
        <source>The engine is starting (PyTorch loads once); your run starts when it is ready</source>
        <translation>引擎正在启动（PyTorch 只加载一次）；就绪后会开始你的运行</translation>
    </message>
    <message>
        <source>● Engine failed</source>
        <translation>● 引擎出错</translation>
    </message>
    <message>
        <source>The engine could not start.</source>
        <translation>引擎无法启动。</translation>
    </message>
    <message>
        <source>● Engine restarting…</source>
        <translation>● 引擎重启中…</translation>
    </message>
    <message>
        <source>The engine stopped while running your program ({why}).</source>
        <translation>引擎在运行你的程序时停止了（{why}）。</translation>
    </message>
    <message>
        <source>It is starting again; run the program once it is ready. Your text is safe.</source>
        <translation>引擎正在重新启动；就绪后请再次运行程序。你的代码不会丢失。</translation>
    </message>
    <message>
        <source>The engine has not started yet; its walls are shown once it has.</source>
        <translation>引擎尚未启动；启动后会显示它的隔离措施。</translation>
    </message>
    <message>
        <source>Every program runs inside these walls.</source>
        <translation>每个程序都在这些隔离措施之内运行。</translation>
    </message>
    <message>
        <source>A program from elsewhere runs only once you trust it.</source>
        <translation>来自别处的程序只有在你信任后才会运行。</translation>
    </message>
    <message>
        <source>Engine:</source>
        <translation>引擎：</translation>
    </message>
    <message>
        <source>Details below, or run {command}.</source>
        <translation>详情见下方，或运行 {command}。</translation>
    </message>
    <message>
        <source>About gradviz</source>
        <translation>关于 gradviz</translation>
    </message>
    <message>
        <source>Make PyTorch autograd visible: run real code, draw the graph, animate the backward pass, watch .grad accumulate.</source>
        <translation>让 PyTorch 的自动求导看得见：运行真实的代码，画出计算图，动画演示反向传播，观察 .grad 的累加。</translation>
    </message>
</context>
<context>
    <name>Sessions</name>
    <message>
        <source>Saved {name}</source>
        <translation>已保存 {name}</translation>
    </message>
    <message>
        <source>Cannot open file</source>
        <extracomment>How often (ms) unsaved changes are written to the recovery file.</extracomment>
        <translation>无法打开文件</translation>
    </message>
    <message>
        <source>Could not open {name}: {why}</source>
        <translation>无法打开 {name}：{why}</translation>
    </message>
    <message>
        <source>Cannot open example</source>
        <translation>无法打开示例</translation>
    </message>
    <message>
        <source>Cannot save</source>
        <translation>无法保存</translation>
    </message>
    <message>
        <source>Clear Recent Files</source>
        <translation>清除最近文件</translation>
    </message>
    <message>
        <source>&amp;Classic Lessons</source>
        <translation>经典课程(&amp;C)</translation>
    </message>
    <message>
        <source>Open the lesson “{title}”</source>
        <translation>打开课程“{title}”</translation>
    </message>
    <message>
        <source>Recovered the autosaved text: Run (Ctrl+Enter) runs it</source>
        <translation>已恢复自动保存的文本：按“运行”（Ctrl+Enter）运行它</translation>
    </message>
</context>
</TS>
